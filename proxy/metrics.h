#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/address.h"
#include "net/tls_session.h"
#include "router/route_policy.h"

namespace rhp::proxy {

/* Written by one worker thread, read by the admin endpoint when Prometheus
 * scrapes. A relaxed load and store instead of fetch_add: a single writer
 * needs no locked instruction, so counting costs a plain add on the hot
 * path and the workers never contend on a cache line. */
class Counter {
 public:
  void add(std::uint64_t n = 1) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

/* A single-writer level (connections open, requests held). */
class Gauge {
 public:
  void set(std::int64_t value) { value_.store(value, std::memory_order_relaxed); }
  void add(std::int64_t delta) { set(value() + delta); }
  std::int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};

/* Request latency in fixed buckets, as a Prometheus histogram wants them.
 * Buckets are stored per bucket (not cumulative) so an observation touches
 * one counter; the scrape adds them up. */
class LatencyHistogram {
 public:
  static constexpr std::array<std::uint64_t, 16> kUpperBoundsMicros = {
      50,     100,    250,     500,     1'000,   2'500,     5'000,     10'000,
      25'000, 50'000, 100'000, 250'000, 500'000, 1'000'000, 2'500'000, 10'000'000};
  static constexpr std::size_t kBuckets = kUpperBoundsMicros.size() + 1;  // the last is +Inf

  void observe(std::uint64_t micros);
  std::uint64_t bucket(std::size_t index) const { return buckets_[index].value(); }
  std::uint64_t sumMicros() const { return sum_micros_.value(); }

 private:
  std::array<Counter, kBuckets> buckets_;
  Counter sum_micros_;
};

/* The command classes of router::TargetKind, as metric label values. */
inline constexpr std::size_t kCommandClasses = 9;
std::size_t commandClassIndex(router::TargetKind target);
std::string_view commandClassName(std::size_t index);

/* Why a client got an error reply. Proxy-made errors are told apart by
 * their text (errors.h); anything else came from Redis. */
enum class ErrorKind : std::uint8_t {
  Protocol,        // malformed request
  OutcomeUnknown,  // a write in flight when the master died or failed over
  Timeout,         // backend.request_timeout_ms
  HeldTooLong,     // no writable master within failover.hold_ms, or the hold buffer is full
  Refused,         // a command disabled or not proxyable
  NoReplica,       // read_policy "replica" and none eligible
  Aborted,         // a transaction or SCAN iteration cut by a failover
  Auth,            // NOAUTH, WRONGPASS
  Redis,           // the server's own error (WRONGTYPE, ERR unknown command, ...)
};
inline constexpr std::size_t kErrorKinds = 9;
std::string_view errorKindName(std::size_t index);
ErrorKind classifyError(std::string_view reply);

enum class NodeRole : std::uint8_t { Master, Replica };

/* Each metric is declared once, here: its C++ member, its Prometheus name
 * and its help line (an X-macro, as twemproxy declares its stats). The
 * structs below and the /metrics text (metrics_text.cc) are made from these
 * lists. */

/* Per backend node, summed over the workers' slots for it; labelled by
 * address and by the role the node had for the proxy. */
#define RHP_NODE_METRICS(X)                                                               \
  X(Counter, requests, "redis_ha_proxy_backend_requests_total",                           \
    "Requests sent to a backend node, by node and the role it had for the proxy.")        \
  X(Counter, connects, "redis_ha_proxy_backend_connects_total",                           \
    "Pooled backend connections set up (a rising rate means reconnects).")                \
  X(Counter, reads_resent, "redis_ha_proxy_backend_reads_resent_total",                   \
    "Reads written to a node whose connection broke before the reply, sent again (never " \
    "writes: theirs is an outcome_unknown error).")                                       \
  X(Gauge, connections, "redis_ha_proxy_backend_connections",                             \
    "Pooled backend connections up now (passthrough users' included).")

/* Per worker, summed over the workers. */
#define RHP_WORKER_METRICS(X)                                                                   \
  X(Counter, clients_accepted, "redis_ha_proxy_client_connections_accepted_total",              \
    "Client connections accepted.")                                                             \
  X(Counter, clients_rejected, "redis_ha_proxy_client_connections_rejected_total",              \
    "Client connections refused because proxy.max_clients was reached.")                        \
  X(Counter, clients_timed_out, "redis_ha_proxy_client_connections_timed_out_total",            \
    "Client connections closed for idling past proxy.timeout or not authenticating within "     \
    "proxy.auth_timeout_ms.")                                                                   \
  X(Counter, clients_paused, "redis_ha_proxy_client_output_backlog_pauses_total",               \
    "Times a client's requests stopped being read because its unread replies and unanswered "   \
    "requests reached proxy.client_output_backlog (backpressure).")                             \
  X(Counter, clients_output_limit_closed,                                                       \
    "redis_ha_proxy_client_output_buffer_limit_disconnections_total",                           \
    "Subscribers disconnected for overcoming proxy.client_output_buffer_limit_pubsub (Redis's " \
    "client_output_buffer_limit_disconnections).")                                              \
  X(Counter, clients_evicted, "redis_ha_proxy_evicted_clients_total",                           \
    "Clients closed, largest first, because all clients' buffers together passed "              \
    "proxy.maxmemory_clients (Redis's evicted_clients).")                                       \
  X(Gauge, client_memory_bytes, "redis_ha_proxy_client_memory_bytes",                           \
    "Bytes held for clients: unparsed input, unwritten replies, unanswered requests (what "     \
    "proxy.maxmemory_clients limits; Redis's mem_clients_normal).")                             \
  X(Counter, bytes_received, "redis_ha_proxy_client_received_bytes_total",                      \
    "Bytes read from clients.")                                                                 \
  X(Counter, bytes_sent, "redis_ha_proxy_client_sent_bytes_total", "Bytes written to clients.") \
  X(Gauge, held_requests, "redis_ha_proxy_held_requests",                                       \
    "Requests held while no writable master is confirmed (failover.hold_ms).")                  \
  X(LatencyHistogram, latency, "redis_ha_proxy_request_duration_seconds",                       \
    "Time from a forwarded request's arrival to its reply being written back, as the client "   \
    "sees it (time held during a failover included).")                                          \
  X(LatencyHistogram, proxy_latency, "redis_ha_proxy_request_proxy_duration_seconds",           \
    "The part of request_duration not spent waiting for the backend's reply: what the proxy "   \
    "adds (and time held during a failover).")

/* Per user (proxy.users, and `default`), summed over the workers. */
#define RHP_USER_METRICS(X)                                                                    \
  X(Counter, requests, "redis_ha_proxy_user_requests_total",                                   \
    "Requests received from clients logged in as a user (proxy.users; default for the rest).") \
  X(Counter, errors, "redis_ha_proxy_user_errors_total",                                       \
    "Error replies sent to a user's clients, NOPERMs included.")                               \
  X(Counter, noperms, "redis_ha_proxy_user_noperm_total",                                      \
    "Requests refused because the user may not run the command, or not on keys or channels "   \
    "(Redis's NOPERM).")

#define RHP_METRIC_MEMBER(type, member, name, help) type member;

/* One backend node as one worker used it. Slots are claimed once and never
 * reused, so the scrape can read them while the worker runs. */
struct NodeMetrics {
  std::atomic<bool> in_use{false};  // set after address and role are written
  config::Address address;
  NodeRole role = NodeRole::Master;
  RHP_NODE_METRICS(RHP_METRIC_MEMBER)
  std::array<Counter, net::kTlsFailures> tls_failures;  // by net::tlsFailureName
};

/* One user as one worker saw it; slots are claimed by name, as nodes'. */
struct UserMetrics {
  std::atomic<bool> in_use{false};  // set after name is written
  std::string name;
  RHP_USER_METRICS(RHP_METRIC_MEMBER)
};

/* Everything one worker counts. */
struct WorkerMetrics {
  RHP_WORKER_METRICS(RHP_METRIC_MEMBER)
  std::array<Counter, kCommandClasses> commands;  // by commandClassName
  std::array<Counter, kErrorKinds> errors;        // by errorKindName
  /* Clients of the TLS port lost before their first request, by
   * net::tlsFailureName. */
  std::array<Counter, net::kTlsFailures> client_tls_failures;

  static constexpr std::size_t kMaxNodes = 64;
  std::array<NodeMetrics, kMaxNodes> nodes;
  /* The slot for a node in a role, claimed on first use; nullptr when all
   * are taken (a topology that churned through more nodes than that). */
  NodeMetrics* node(const config::Address& address, NodeRole role);

  /* As many users as are labelled: past that (a config with more users),
   * the rest are not counted per user. */
  static constexpr std::size_t kMaxUsers = 64;
  std::array<UserMetrics, kMaxUsers> users;
  UserMetrics* user(std::string_view name);
};

}  // namespace rhp::proxy
