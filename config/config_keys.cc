#include "config/config_keys.h"

#include "config/key_types.h"

namespace rhp::config {

namespace {

using namespace key_types;
using Policy = Config::Routing::ReadPolicy;

/* The member a key sets, for a const or a mutable Config alike. */
#define RHP_MEMBER(path)      \
  [](auto& config) -> auto& { \
    return config.path;       \
  }

/* The tls_* keys of one section (backend or sentinel): the same settings
 * as Redis's tls-* directives. Whether TLS is used at all waits for a
 * restart (pooled connections are not redone); the files and checks apply
 * to the next connection, so a SIGHUP rotates certificates. */
#define RHP_TLS_KEYS(section)                                                                    \
  makeKey(#section ".tls", restart, RHP_MEMBER(section.tls.enabled), Flag{}),                    \
      makeKey(#section ".tls_ca_cert_file", live, RHP_MEMBER(section.tls.ca_cert_file), Text{}), \
      makeKey(#section ".tls_ca_cert_dir", live, RHP_MEMBER(section.tls.ca_cert_dir), Text{}),   \
      makeKey(#section ".tls_cert_file", live, RHP_MEMBER(section.tls.cert_file), Text{}),       \
      makeKey(#section ".tls_key_file", live, RHP_MEMBER(section.tls.key_file), Text{}),         \
      makeKey(#section ".tls_key_file_pass", live, RHP_MEMBER(section.tls.key_file_pass),        \
              Secret{}),                                                                         \
      makeKey(#section ".tls_server_name", live, RHP_MEMBER(section.tls.server_name), Text{}),   \
      makeKey(#section ".tls_verify", live, RHP_MEMBER(section.tls.verify),                      \
              OneOf<net::TlsVerify, 3>{                                                          \
                  {"full", "chain", "none"},                                                     \
                  {net::TlsVerify::Full, net::TlsVerify::Chain, net::TlsVerify::None}}),         \
      makeKey(#section ".tls_protocols", live, RHP_MEMBER(section.tls.protocols), Text{}),       \
      makeKey(#section ".tls_ciphers", live, RHP_MEMBER(section.tls.ciphers), Text{}),           \
      makeKey(#section ".tls_ciphersuites", live, RHP_MEMBER(section.tls.ciphersuites), Text{})

/* Longer than 60 lines on purpose: one line per key of the file, as long
 * as the file has keys. */
std::vector<Key> allKeys() {
  constexpr auto live = Apply::Live;
  constexpr auto restart = Apply::Restart;
  // The integer ranges catch typos, not policy: each bound is far past what
  // one proxy process uses (1 connection per node and worker is the default
  // and the fastest; 64 is the most allowed).
  return {
      makeKey("proxy.listen", restart, RHP_MEMBER(proxy.listen), OptionalEndpoint{}),
      makeKey("proxy.tls_listen", restart, RHP_MEMBER(proxy.tls_listen), OptionalEndpoint{}),
      makeKey("proxy.tls_cert_file", live, RHP_MEMBER(proxy.tls.cert_file), Text{}),
      makeKey("proxy.tls_key_file", live, RHP_MEMBER(proxy.tls.key_file), Text{}),
      makeKey("proxy.tls_key_file_pass", live, RHP_MEMBER(proxy.tls.key_file_pass), Secret{}),
      makeKey("proxy.tls_ca_cert_file", live, RHP_MEMBER(proxy.tls.ca_cert_file), Text{}),
      makeKey("proxy.tls_ca_cert_dir", live, RHP_MEMBER(proxy.tls.ca_cert_dir), Text{}),
      makeKey("proxy.tls_auth_clients", live, RHP_MEMBER(proxy.tls.auth_clients),
              OneOf<net::TlsAuthClients, 3>{{"no", "optional", "yes"},
                                            {net::TlsAuthClients::No, net::TlsAuthClients::Optional,
                                             net::TlsAuthClients::Yes}}),
      makeKey("proxy.tls_protocols", live, RHP_MEMBER(proxy.tls.protocols), Text{}),
      makeKey("proxy.tls_ciphers", live, RHP_MEMBER(proxy.tls.ciphers), Text{}),
      makeKey("proxy.tls_ciphersuites", live, RHP_MEMBER(proxy.tls.ciphersuites), Text{}),
      makeKey("proxy.tls_handshake_timeout_ms", live, RHP_MEMBER(proxy.tls_handshake_timeout),
              Milliseconds{}),
      makeKey("proxy.workers", restart, RHP_MEMBER(proxy.workers), WorkerCount{{0, kMaxWorkers}}),
      makeKey("proxy.max_clients", live, RHP_MEMBER(proxy.max_clients),
              Integer<std::uint32_t>{1, 1'000'000}),
      makeKey("proxy.max_bulk_len", live, RHP_MEMBER(proxy.max_bulk_len),
              Integer<std::uint64_t>{1, 4ull * 1024 * 1024 * 1024}),
      makeKey("proxy.max_array_len", live, RHP_MEMBER(proxy.max_array_len),
              Integer<std::uint32_t>{1, 0x7fffffffu}),
      makeKey("proxy.databases", live, RHP_MEMBER(proxy.databases),
              Integer<std::uint32_t>{1, 1'000'000}),
      makeKey("proxy.password", live, RHP_MEMBER(proxy.password), Secret{}),
      makeKey("proxy.users", live, RHP_MEMBER(proxy.users), AclUserLines{}),
      makeKey(
          "proxy.auth", restart, RHP_MEMBER(proxy.auth),
          OneOf<AuthMode, 2>{{"local", "passthrough"}, {AuthMode::Local, AuthMode::Passthrough}}),
      makeKey("proxy.auth_cache_ms", live, RHP_MEMBER(proxy.auth_cache), Milliseconds{true}),
      makeKey("proxy.drain_timeout_ms", live, RHP_MEMBER(proxy.drain_timeout), Milliseconds{true}),
      makeKey("proxy.timeout", live, RHP_MEMBER(proxy.timeout),
              Integer<std::uint32_t>{0, 100'000'000}),
      makeKey("proxy.auth_timeout_ms", live, RHP_MEMBER(proxy.auth_timeout), Milliseconds{}),
      makeKey("proxy.client_output_backlog", live, RHP_MEMBER(proxy.client_output_backlog),
              Bytes{64 * 1024}),
      makeKey("proxy.client_output_buffer_limit_pubsub", live,
              RHP_MEMBER(proxy.client_output_buffer_limit_pubsub), BufferLimit{}),
      makeKey("proxy.maxmemory_clients", live, RHP_MEMBER(proxy.maxmemory_clients), Bytes{0}),

      makeKey("backend.connections_per_node", restart, RHP_MEMBER(backend.connections_per_node),
              Integer<std::uint32_t>{1, 64}),
      makeKey("backend.connect_timeout_ms", live, RHP_MEMBER(backend.connect_timeout),
              Milliseconds{}),
      makeKey("backend.request_timeout_ms", live, RHP_MEMBER(backend.request_timeout),
              Milliseconds{}),
      makeKey("backend.username", live, RHP_MEMBER(backend.username), Text{}),
      makeKey("backend.password", live, RHP_MEMBER(backend.password), Secret{}),
      makeKey("backend.max_users", live, RHP_MEMBER(backend.max_users),
              Integer<std::uint32_t>{1, 100'000}),
      makeKey("backend.user_idle_timeout_ms", live, RHP_MEMBER(backend.user_idle_timeout),
              Milliseconds{}),
      RHP_TLS_KEYS(backend),

      makeKey("sentinel.master_name", restart, RHP_MEMBER(sentinel.master_name), Text{}),
      makeKey("sentinel.addresses", live, RHP_MEMBER(sentinel.addresses), Endpoints{}),
      makeKey("sentinel.username", live, RHP_MEMBER(sentinel.username), Text{}),
      makeKey("sentinel.password", live, RHP_MEMBER(sentinel.password), Secret{}),
      makeKey("sentinel.poll_interval_ms", live, RHP_MEMBER(sentinel.poll_interval),
              Milliseconds{}),
      makeKey("sentinel.connect_timeout_ms", live, RHP_MEMBER(sentinel.connect_timeout),
              Milliseconds{}),
      makeKey("sentinel.command_timeout_ms", live, RHP_MEMBER(sentinel.command_timeout),
              Milliseconds{}),
      makeKey("sentinel.require_sentinel_majority", live,
              RHP_MEMBER(sentinel.require_sentinel_majority), Flag{}),
      makeKey("sentinel.write_lease_ms", live, RHP_MEMBER(sentinel.write_lease),
              Milliseconds{true}),
      RHP_TLS_KEYS(sentinel),

      makeKey("failover.hold_ms", live, RHP_MEMBER(failover.hold), Milliseconds{true}),
      makeKey("failover.hold_max_bytes", live, RHP_MEMBER(failover.hold_max_bytes),
              Integer<std::uint64_t>{0, 1ull << 40}),

      makeKey("routing.read_policy", live, RHP_MEMBER(routing.read_policy),
              OneOf<Policy, 3>{{"master", "prefer-replica", "replica"},
                               {Policy::Master, Policy::PreferReplica, Policy::Replica}}),
      makeKey(
          "routing.replica_balance", live, RHP_MEMBER(routing.replica_balance),
          OneOf<ReplicaBalance, 2>{{"round-robin", "least-outstanding"},
                                   {ReplicaBalance::RoundRobin, ReplicaBalance::LeastOutstanding}}),
      makeKey("routing.replica_weights", live, RHP_MEMBER(routing.replica_weights), Weights{}),
      makeKey("routing.max_replica_lag_ms", live, RHP_MEMBER(routing.max_replica_lag),
              Milliseconds{}),
      makeKey("routing.replica_check_interval_ms", live, RHP_MEMBER(routing.replica_check_interval),
              Milliseconds{}),
      makeKey("routing.read_your_writes", live, RHP_MEMBER(routing.read_your_writes), Flag{}),
      makeKey("routing.sticky_after_write_ms", live, RHP_MEMBER(routing.sticky_after_write),
              Milliseconds{true}),
      makeKey("routing.allow_commands", live, RHP_MEMBER(routing.allow_commands),
              AllowedCommands{}),

      makeKey("log.level", live, RHP_MEMBER(log.level),
              Words<7>{{"trace", "debug", "info", "warn", "error", "critical", "off"}}),
      makeKey("log.format", restart, RHP_MEMBER(log.json),
              OneOf<bool, 2>{{"text", "json"}, {false, true}}),

      makeKey("admin.enabled", restart, RHP_MEMBER(admin.enabled), Flag{}),
      makeKey("admin.listen", restart, RHP_MEMBER(admin.listen), Endpoint{true}),
      makeKey("admin.token", restart, RHP_MEMBER(admin.token), Secret{}),
      makeKey("admin.max_connections", restart, RHP_MEMBER(admin.max_connections),
              Integer<std::uint32_t>{1, 10'000}),
      makeKey("admin.request_timeout_ms", restart, RHP_MEMBER(admin.request_timeout),
              Milliseconds{}),
  };
}

#undef RHP_TLS_KEYS
#undef RHP_MEMBER

}  // namespace

std::span<const Key> configKeys() {
  // Built on first use and never changed.
  static const std::vector<Key> keys = allKeys();
  return keys;
}

}  // namespace rhp::config
