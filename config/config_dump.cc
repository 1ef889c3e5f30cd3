#include "config/config_dump.h"

#include <fmt/format.h>

namespace rhp::config {

namespace {

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

std::string secret(const std::string& value) {
  return value.empty() ? "" : "(set)";
}

std::string boolean(bool value) {
  return value ? "true" : "false";
}

std::string ms(milliseconds value) {
  return std::to_string(value.count());
}

std::string readPolicy(Config::Routing::ReadPolicy policy) {
  switch (policy) {
    case Config::Routing::ReadPolicy::Master:
      return "master";
    case Config::Routing::ReadPolicy::PreferReplica:
      return "prefer-replica";
    case Config::Routing::ReadPolicy::Replica:
      return "replica";
  }
  return "?";
}

}  // namespace

std::vector<std::pair<std::string, std::string>> configEntries(const Config& config) {
  std::vector<std::string> sentinels;
  for (const auto& address : config.sentinel.addresses) sentinels.push_back(address.toString());
  std::vector<std::string> weights;
  for (const auto& weight : config.routing.replica_weights) {
    weights.push_back(fmt::format("{}={}", weight.replica.toString(), weight.weight));
  }
  return {
      {"proxy.listen", config.proxy.listen.toString()},
      {"proxy.workers", std::to_string(config.effectiveWorkers())},
      {"proxy.max_clients", std::to_string(config.proxy.max_clients)},
      {"proxy.max_bulk_len", std::to_string(config.proxy.max_bulk_len)},
      {"proxy.max_array_len", std::to_string(config.proxy.max_array_len)},
      {"proxy.databases", std::to_string(config.proxy.databases)},
      {"proxy.password", secret(config.proxy.password)},
      {"proxy.drain_timeout_ms", ms(config.proxy.drain_timeout)},
      {"proxy.timeout", std::to_string(config.proxy.timeout)},
      {"proxy.auth_timeout_ms", ms(config.proxy.auth_timeout)},
      {"proxy.client_output_backlog", std::to_string(config.proxy.client_output_backlog)},
      {"proxy.client_output_buffer_limit_pubsub",
       formatOutputBufferLimit(config.proxy.client_output_buffer_limit_pubsub)},
      {"proxy.maxmemory_clients", std::to_string(config.proxy.maxmemory_clients)},
      {"backend.connections_per_node", std::to_string(config.backend.connections_per_node)},
      {"backend.connect_timeout_ms", ms(config.backend.connect_timeout)},
      {"backend.request_timeout_ms", ms(config.backend.request_timeout)},
      {"backend.username", config.backend.username},
      {"backend.password", secret(config.backend.password)},
      {"sentinel.master_name", config.sentinel.master_name},
      {"sentinel.addresses", joined(sentinels)},
      {"sentinel.username", config.sentinel.username},
      {"sentinel.password", secret(config.sentinel.password)},
      {"sentinel.poll_interval_ms", ms(config.sentinel.poll_interval)},
      {"sentinel.connect_timeout_ms", ms(config.sentinel.connect_timeout)},
      {"sentinel.command_timeout_ms", ms(config.sentinel.command_timeout)},
      {"sentinel.require_sentinel_majority", boolean(config.sentinel.require_sentinel_majority)},
      {"sentinel.write_lease_ms", ms(config.sentinel.write_lease)},
      {"failover.hold_ms", ms(config.failover.hold)},
      {"failover.hold_max_bytes", std::to_string(config.failover.hold_max_bytes)},
      {"routing.read_policy", readPolicy(config.routing.read_policy)},
      {"routing.replica_balance", config.routing.replica_balance == ReplicaBalance::RoundRobin
                                      ? "round-robin"
                                      : "least-outstanding"},
      {"routing.replica_weights", joined(weights)},
      {"routing.max_replica_lag_ms", ms(config.routing.max_replica_lag)},
      {"routing.replica_check_interval_ms", ms(config.routing.replica_check_interval)},
      {"routing.sticky_after_write_ms", ms(config.routing.sticky_after_write)},
      {"routing.allow_commands", joined(config.routing.allow_commands)},
      {"log.level", config.log.level},
      {"log.format", config.log.json ? "json" : "text"},
      {"admin.enabled", boolean(config.admin.enabled)},
      {"admin.listen", config.admin.listen.toString()},
      {"admin.token", secret(config.admin.token)},
      {"admin.max_connections", std::to_string(config.admin.max_connections)},
      {"admin.request_timeout_ms", ms(config.admin.request_timeout)},
  };
}

}  // namespace rhp::config
