#include "proxy/metrics_text.h"

#include <fmt/format.h>

#include <map>
#include <tuple>
#include <type_traits>

namespace rhp::proxy {

namespace {

std::string escapeLabel(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

/* Writes metric families; every sample of a family follows its header. */
class Exposition {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }
  template <class Value>
  void sample(std::string_view name, std::string_view labels, Value value) {
    if (labels.empty()) {
      out_ += fmt::format("{} {}\n", name, value);
    } else {
      out_ += fmt::format("{}{{{}}} {}\n", name, labels, value);
    }
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

std::string label(std::string_view key, std::string_view value) {
  return fmt::format("{}=\"{}\"", key, escapeLabel(value));
}

template <class Get>
std::uint64_t total(const MetricsInputs& inputs, Get get) {
  std::uint64_t sum = 0;
  for (const WorkerMetrics* worker : inputs.workers) sum += get(*worker);
  return sum;
}

template <class Metric>
constexpr std::string_view typeOf() {
  return std::is_same_v<Metric, Counter> ? "counter" : "gauge";
}

/* A counter or gauge every worker keeps, summed over the workers: one
 * family with one sample. */
template <class Metric>
void workerFamily(Exposition& out, const MetricsInputs& inputs, std::string_view name,
                  std::string_view help, Metric WorkerMetrics::*member) {
  out.family(name, typeOf<Metric>(), help);
  std::conditional_t<std::is_same_v<Metric, Counter>, std::uint64_t, std::int64_t> sum = 0;
  for (const WorkerMetrics* worker : inputs.workers) sum += (worker->*member).value();
  out.sample(name, "", sum);
}

/* A latency histogram every worker keeps, its buckets summed. */
void workerFamily(Exposition& out, const MetricsInputs& inputs, std::string_view name,
                  std::string_view help, LatencyHistogram WorkerMetrics::*member) {
  out.family(name, "histogram", help);
  std::array<std::uint64_t, LatencyHistogram::kBuckets> buckets{};
  std::uint64_t sum_micros = 0;
  for (const WorkerMetrics* worker : inputs.workers) {
    const LatencyHistogram& histogram = worker->*member;
    for (std::size_t i = 0; i < buckets.size(); ++i) buckets[i] += histogram.bucket(i);
    sum_micros += histogram.sumMicros();
  }
  const std::string bucket_name = std::string(name) + "_bucket";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < LatencyHistogram::kUpperBoundsMicros.size(); ++i) {
    cumulative += buckets[i];
    const double bound = static_cast<double>(LatencyHistogram::kUpperBoundsMicros[i]) / 1e6;
    out.sample(bucket_name, label("le", fmt::format("{}", bound)), cumulative);
  }
  cumulative += buckets.back();
  out.sample(bucket_name, label("le", "+Inf"), cumulative);
  out.sample(std::string(name) + "_sum", "", static_cast<double>(sum_micros) / 1e6);
  out.sample(std::string(name) + "_count", "", cumulative);
}

/* Per node and role, summed over the workers' slots for it. */
struct NodeTotals {
#define RHP_NODE_TOTAL(type, member, name, help) std::int64_t member = 0;
  RHP_NODE_METRICS(RHP_NODE_TOTAL)
#undef RHP_NODE_TOTAL
  std::array<std::int64_t, net::kTlsFailures> tls_failures{};
};

std::string_view roleName(NodeRole role) {
  return role == NodeRole::Master ? "master" : "replica";
}

void nodeFamilies(Exposition& out, const MetricsInputs& inputs) {
  std::map<std::tuple<std::string, std::string_view>, NodeTotals> nodes;
  for (const WorkerMetrics* worker : inputs.workers) {
    for (const NodeMetrics& node : worker->nodes) {
      if (!node.in_use.load(std::memory_order_acquire)) break;
      NodeTotals& totals = nodes[{node.address.toString(), roleName(node.role)}];
#define RHP_NODE_ADD(type, member, name, help) \
  totals.member += static_cast<std::int64_t>(node.member.value());
      RHP_NODE_METRICS(RHP_NODE_ADD)
#undef RHP_NODE_ADD
      for (std::size_t i = 0; i < net::kTlsFailures; ++i) {
        totals.tls_failures[i] += static_cast<std::int64_t>(node.tls_failures[i].value());
      }
    }
  }
#define RHP_NODE_FAMILY(type, member, name, help)                                                \
  out.family(name, typeOf<type>(), help);                                                        \
  for (const auto& [key, totals] : nodes) {                                                      \
    out.sample(name, label("address", std::get<0>(key)) + "," + label("role", std::get<1>(key)), \
               totals.member);                                                                   \
  }
  RHP_NODE_METRICS(RHP_NODE_FAMILY)
#undef RHP_NODE_FAMILY
  constexpr std::string_view kTls = "redis_ha_proxy_backend_tls_failures_total";
  out.family(
      kTls, "counter",
      "Pooled backend connections lost to TLS, by reason: certificate (the node's did not "
      "verify), peer_alert (the node refused, e.g. the proxy's certificate), "
      "handshake_timeout (no handshake: a plain-TCP port?), protocol (anything else); plaintext "
      "is for clients only (redis_ha_proxy_client_tls_failures_total).");
  for (const auto& [key, totals] : nodes) {
    for (std::size_t i = 0; i < net::kTlsFailures; ++i) {
      out.sample(kTls,
                 label("address", std::get<0>(key)) + "," + label("role", std::get<1>(key)) + "," +
                     label("reason", net::tlsFailureName(static_cast<net::TlsFailure>(i))),
                 totals.tls_failures[i]);
    }
  }
}

/* Per user, by name: labels bounded by the configured users. */
void userFamilies(Exposition& out, const MetricsInputs& inputs) {
  struct UserTotals {
#define RHP_USER_TOTAL(type, member, name, help) std::int64_t member = 0;
    RHP_USER_METRICS(RHP_USER_TOTAL)
#undef RHP_USER_TOTAL
  };
  std::map<std::string, UserTotals> users;
  for (const WorkerMetrics* worker : inputs.workers) {
    for (const UserMetrics& user : worker->users) {
      if (!user.in_use.load(std::memory_order_acquire)) break;
      UserTotals& totals = users[user.name];
#define RHP_USER_ADD(type, member, name, help) \
  totals.member += static_cast<std::int64_t>(user.member.value());
      RHP_USER_METRICS(RHP_USER_ADD)
#undef RHP_USER_ADD
    }
  }
#define RHP_USER_FAMILY(type, member, name, help) \
  out.family(name, typeOf<type>(), help);         \
  for (const auto& [user, totals] : users) out.sample(name, label("user", user), totals.member);
  RHP_USER_METRICS(RHP_USER_FAMILY)
#undef RHP_USER_FAMILY
}

/* The control thread's view: the master, the sentinels, the replicas. */
void controlFamilies(Exposition& out, const MetricsInputs& inputs) {
  const health::Topology* topology = inputs.topology;
  out.family("redis_ha_proxy_master_info", "gauge",
             "1 for the master writes go to; absent while none is confirmed.");
  if (topology != nullptr && topology->master) {
    out.sample("redis_ha_proxy_master_info", label("address", topology->master->toString()), 1);
  }
  out.family("redis_ha_proxy_master_writable", "gauge",
             "1 while a confirmed master takes writes (what /readyz reports).");
  const bool writable = topology != nullptr && topology->master.has_value();
  out.sample("redis_ha_proxy_master_writable", "", writable ? 1 : 0);
  out.family("redis_ha_proxy_master_changes_total", "counter",
             "Times the confirmed master changed to another node.");
  out.sample("redis_ha_proxy_master_changes_total", "", inputs.control.master_changes);
  out.family("redis_ha_proxy_failovers_total", "counter",
             "Failovers of the master Sentinel started, as the proxy saw them (writes fenced).");
  out.sample("redis_ha_proxy_failovers_total", "", inputs.control.failovers);
  out.family("redis_ha_proxy_write_lease_valid", "gauge",
             "1 while a majority of the sentinels answered recently enough for writes "
             "(sentinel.write_lease_ms).");
  out.sample("redis_ha_proxy_write_lease_valid", "", inputs.control.write_lease_valid ? 1 : 0);
  out.family("redis_ha_proxy_sentinel_up", "gauge",
             "1 if the sentinel answered the proxy's last question.");
  for (const auto& sentinel : inputs.control.sentinels) {
    out.sample("redis_ha_proxy_sentinel_up", label("address", sentinel.address),
               sentinel.up ? 1 : 0);
  }
  constexpr std::string_view kControlTls = "redis_ha_proxy_control_tls_failures_total";
  out.family(kControlTls, "counter",
             "The proxy's own links (peer=\"sentinel\", or peer=\"node\" for ROLE and INFO) "
             "lost to TLS, by reason as in redis_ha_proxy_backend_tls_failures_total.");
  for (const auto& [peer, counts] : {std::pair{"sentinel", &inputs.control.sentinel_tls_failures},
                                     std::pair{"node", &inputs.control.node_tls_failures}}) {
    for (std::size_t i = 0; i < net::kTlsFailures; ++i) {
      out.sample(kControlTls,
                 label("peer", peer) + "," +
                     label("reason", net::tlsFailureName(static_cast<net::TlsFailure>(i))),
                 (*counts)[i]);
    }
  }
  static const std::vector<health::ReplicaState> kNoReplicas;
  const auto& replicas = topology != nullptr ? topology->replicas : kNoReplicas;
  out.family("redis_ha_proxy_replica_eligible", "gauge",
             "1 if the replica gets reads (up, linked, not flagged down, within max lag).");
  for (const auto& replica : replicas) {
    out.sample("redis_ha_proxy_replica_eligible", label("address", replica.address.toString()),
               replica.eligible ? 1 : 0);
  }
  out.family("redis_ha_proxy_replica_lag_seconds", "gauge",
             "How far behind the master a replica was at its last check.");
  for (const auto& replica : replicas) {
    out.sample("redis_ha_proxy_replica_lag_seconds", label("address", replica.address.toString()),
               static_cast<double>(replica.lag_ms) / 1000.0);
  }
}

}  // namespace

std::string renderMetrics(const MetricsInputs& inputs) {
  Exposition out;
  out.family("redis_ha_proxy_build_info", "gauge", "Always 1; the version label says which build.");
  out.sample("redis_ha_proxy_build_info", label("version", inputs.version), 1);
  out.family("redis_ha_proxy_start_time_seconds", "gauge",
             "When the proxy started, in seconds since the Unix epoch.");
  out.sample("redis_ha_proxy_start_time_seconds", "", inputs.start_time_seconds);
  out.family("redis_ha_proxy_workers", "gauge", "Worker threads serving clients.");
  out.sample("redis_ha_proxy_workers", "", inputs.workers.size());

  out.family("redis_ha_proxy_client_connections", "gauge", "Client connections open now.");
  out.sample("redis_ha_proxy_client_connections", "", inputs.clients_open);
#define RHP_WORKER_FAMILY(type, member, name, help) \
  workerFamily(out, inputs, name, help, &WorkerMetrics::member);
  RHP_WORKER_METRICS(RHP_WORKER_FAMILY)
#undef RHP_WORKER_FAMILY

  out.family("redis_ha_proxy_commands_total", "counter",
             "Commands received, by how they are routed: master (writes, scripts, admin and "
             "unknown commands), read, scan, script_load, transaction, blocking, pubsub, local "
             "(answered by the proxy) and refused.");
  for (std::size_t c = 0; c < kCommandClasses; ++c) {
    out.sample("redis_ha_proxy_commands_total", label("class", commandClassName(c)),
               total(inputs, [c](const WorkerMetrics& w) { return w.commands[c].value(); }));
  }
  out.family("redis_ha_proxy_errors_total", "counter",
             "Error replies sent to clients, by kind. outcome_unknown: a write was in flight when "
             "the master died or failed over; redis: the server's own error.");
  for (std::size_t k = 0; k < kErrorKinds; ++k) {
    out.sample("redis_ha_proxy_errors_total", label("kind", errorKindName(k)),
               total(inputs, [k](const WorkerMetrics& w) { return w.errors[k].value(); }));
  }
  out.family("redis_ha_proxy_client_tls_failures_total", "counter",
             "Clients of the TLS port (proxy.tls_listen) closed before their first request: a "
             "certificate that did not verify (or none where tls_auth_clients requires one), an "
             "alert from the client, no handshake within proxy.tls_handshake_timeout_ms, another "
             "protocol error, or plain RESP sent to the TLS port.");
  for (std::size_t i = 0; i < net::kTlsFailures; ++i) {
    const auto failure = static_cast<net::TlsFailure>(i);
    out.sample(
        "redis_ha_proxy_client_tls_failures_total", label("reason", net::tlsFailureName(failure)),
        total(inputs, [i](const WorkerMetrics& w) { return w.client_tls_failures[i].value(); }));
  }
  nodeFamilies(out, inputs);
  userFamilies(out, inputs);

  controlFamilies(out, inputs);
  return out.take();
}

}  // namespace rhp::proxy
