#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/address.h"
#include "config/memory_size.h"
#include "net/tls_settings.h"

namespace rhp::config {

using std::chrono::milliseconds;

/* The most worker threads proxy.workers may ask for. */
inline constexpr unsigned kMaxWorkers = 256;

/* How reads are spread over the replicas (routing.replica_balance). */
enum class ReplicaBalance { RoundRobin, LeastOutstanding };

/* Who checks clients' AUTH (proxy.auth): the proxy, from proxy.password
 * and proxy.users; or the nodes, whose ACL users the clients' requests
 * then run as (proxy/user_connections.h). */
enum class AuthMode { Local, Passthrough };

/* Every option's type and default. config_keys.cc names each one in the
 * file and says how it is read and whether a reload applies it;
 * examples/redis-ha-proxy.toml documents each one for operators. */
struct Config {
  struct Proxy {
    /* The plain port and the TLS port (Redis's `port` and `tls-port`);
     * either may be off, not both. */
    std::optional<Address> listen = loopbackAddress(6380);
    std::optional<Address> tls_listen;
    /* The TLS port's certificate, and what it asks of clients. */
    net::TlsServerSettings tls;
    /* A client of the TLS port that has not finished its handshake after
     * this long is closed: a connection that sends nothing costs a slot
     * and an fd, never a handshake. */
    milliseconds tls_handshake_timeout{10000};
    unsigned workers = 0;  // 0: one per core
    std::uint32_t max_clients = 10000;
    std::uint64_t max_bulk_len = 512ull * 1024 * 1024;  // redis proto-max-bulk-len
    std::uint32_t max_array_len = 1024 * 1024;          // redis' multibulk ceiling
    std::uint32_t databases = 16;                       // must match the backends' `databases`
    std::string password;                               // clients must AUTH when set
    /* Users clients AUTH as, one Redis ACL file line each
     * (config/acl_user.h); `default` comes from `password` unless defined. */
    std::vector<std::string> users;
    AuthMode auth = AuthMode::Local;
    /* Passthrough: an AUTH the master accepted this recently, with the same
     * password (kept as a salted hash), is accepted without asking again: a
     * fleet reconnecting after a failover costs the nodes no login storm. A
     * password changed or a user removed on the nodes is honoured by new
     * AUTHs after at most this long. 0: every AUTH asks. */
    milliseconds auth_cache{10000};
    /* SIGTERM: stop accepting, let requests in flight finish for this long. */
    milliseconds drain_timeout{5000};
    /* Redis's `timeout`: close a client idle this many seconds (0: never).
     * Like Redis, not a subscriber or a client blocked in a command. */
    std::uint32_t timeout = 0;
    /* With `password`: close a connection that has not authenticated after
     * this long, so idle strangers cannot hold max_clients slots. */
    milliseconds auth_timeout{10000};
    /* A client's replies not yet read (with its requests still on their way)
     * past which the proxy stops reading its requests until it reads:
     * backpressure, nothing is dropped. 16 MiB is many replies of any usual
     * size; a pipeline of 1,000 GETs of 1 MiB without reading would
     * otherwise take 1 GB of proxy memory. */
    std::uint64_t client_output_backlog = 16ull * 1024 * 1024;
    /* Redis's `client-output-buffer-limit pubsub 32mb 8mb 60`: a subscriber
     * whose unread messages reach the hard limit, or stay above the soft one
     * that long, is disconnected, as Redis would do to it directly. */
    OutputBufferLimit client_output_buffer_limit_pubsub{32ull * 1024 * 1024, 8ull * 1024 * 1024,
                                                        60};
    /* Redis's `maxmemory-clients`: when every client's buffers together pass
     * this, the client using the most is closed, and the next, until under.
     * 0 (the default, as in Redis): no ceiling. */
    std::uint64_t maxmemory_clients = 0;
  } proxy;

  struct Backend {
    std::uint32_t connections_per_node = 1;
    milliseconds connect_timeout{1000};
    milliseconds request_timeout{5000};
    std::string username;
    std::string password;
    /* Passthrough users (proxy.auth): at most this many users have
     * connections to a node from one worker; a user's connection that
     * carried nothing this long is closed. */
    std::uint32_t max_users = 64;
    milliseconds user_idle_timeout{60000};
    /* TLS to the redis nodes (their tls-port), for pooled connections and
     * the control plane's ROLE/INFO probes alike. */
    net::TlsClientSettings tls;
  } backend;

  struct Sentinel {
    std::string master_name = "mymaster";
    std::vector<Address> addresses;
    std::string username;
    std::string password;
    milliseconds poll_interval{1000};
    milliseconds connect_timeout{500};
    milliseconds command_timeout{1000};
    /* Writes only while a majority of the known sentinels answer, so a proxy
     * partitioned away with the old master does not write into it. */
    bool require_sentinel_majority = true;
    /* With require_sentinel_majority: how long writes go on after the last
     * word from a majority of the sentinels. 0: half of the
     * down-after-milliseconds the sentinels report for the master. */
    milliseconds write_lease{0};
    /* TLS to the sentinels (a sentinel's own tls-port). */
    net::TlsClientSettings tls;
  } sentinel;

  struct Failover {
    milliseconds hold{5000};
    std::uint64_t hold_max_bytes = 64ull * 1024 * 1024;
  } failover;

  /* Where reads go. A replica is eligible for reads while it answers, its
   * link to the current master is up, Sentinel does not flag it down, and it
   * is at most max_replica_lag behind. */
  struct Routing {
    enum class ReadPolicy { Master, PreferReplica, Replica };
    using Balance = ReplicaBalance;
    struct Weight {
      Address replica;
      std::uint32_t weight = 1;
      bool operator==(const Weight&) const = default;
    };
    ReadPolicy read_policy = ReadPolicy::PreferReplica;
    Balance replica_balance = Balance::RoundRobin;
    std::vector<Weight> replica_weights;  // replicas not listed weigh 1
    milliseconds max_replica_lag{1000};
    milliseconds replica_check_interval{250};
    /* A connection reads only from replicas that have what it wrote and
     * read before (router::ReadFloor); false: any eligible replica. */
    bool read_your_writes = true;
    /* After a client writes, its reads go to the master for this long. */
    milliseconds sticky_after_write{0};
    /* Commands disabled by default that the operator re-enables:
     * "config" (every subcommand) or "config|set". */
    std::vector<std::string> allow_commands;
  } routing;

  struct Log {
    std::string level = "info";
    /* "text" for people, "json" (one object a line) for log shippers. */
    bool json = false;
  } log;

  /* The admin HTTP endpoint: /metrics (Prometheus), /healthz, /readyz. */
  struct Admin {
    bool enabled = true;
    Address listen = loopbackAddress(9380);
    /* When set, every request needs "Authorization: Bearer <token>". */
    std::string token;
    /* Connections open at once; at the cap a new one closes the oldest
     * still waiting for its request. A scrape takes one for milliseconds. */
    std::uint32_t max_connections = 16;
    /* A connection's whole exchange, from accept to the last byte of the
     * answer: a client sending a byte a second is closed after this. */
    milliseconds request_timeout{5000};
  } admin;

  unsigned effectiveWorkers() const;
};

/* Worker threads for a proxy.workers value: 0 is one per core. */
unsigned effectiveWorkers(unsigned configured);

}  // namespace rhp::config
