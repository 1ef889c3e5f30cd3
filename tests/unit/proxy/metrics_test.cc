#include "proxy/metrics.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "proxy/metrics_text.h"
#include "proxy/proxy_commands.h"
#include "router/errors.h"

namespace rhp::proxy {
namespace {

TEST(Metrics, ErrorsAreToldApartByWhatTheProxySaid) {
  EXPECT_EQ(classifyError(errors::kMasterLostInFlight), ErrorKind::OutcomeUnknown);
  EXPECT_EQ(classifyError(errors::kFailedOverInFlight), ErrorKind::OutcomeUnknown);
  EXPECT_EQ(classifyError(errors::kRequestTimeout), ErrorKind::Timeout);
  EXPECT_EQ(classifyError(errors::kHoldTimeout), ErrorKind::HeldTooLong);
  EXPECT_EQ(classifyError(errors::kNoSentinelMajority), ErrorKind::HeldTooLong);
  EXPECT_EQ(classifyError(errors::kNoEligibleReplica), ErrorKind::NoReplica);
  EXPECT_EQ(classifyError(errors::kExecAbortedConnectionLost), ErrorKind::Aborted);
  EXPECT_EQ(classifyError(errors::kProtocolInvalidBulkLength), ErrorKind::Protocol);
  EXPECT_EQ(classifyError(errors::kNoAuth), ErrorKind::Auth);
  EXPECT_EQ(classifyError("-ERR 'replicaof' is disabled by redis-ha-proxy: ...\r\n"),
            ErrorKind::Refused);
  EXPECT_EQ(classifyError("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ErrorKind::Redis);
  EXPECT_EQ(classifyError("-ERR unknown command 'FOO'\r\n"), ErrorKind::Redis);
}

TEST(Metrics, HistogramBucketsByUpperBound) {
  LatencyHistogram histogram;
  histogram.observe(10);          // <= 50 us
  histogram.observe(50);          // <= 50 us: bounds are inclusive
  histogram.observe(51);          // <= 100 us
  histogram.observe(20'000'000);  // beyond the last bound: +Inf
  EXPECT_EQ(histogram.bucket(0), 2u);
  EXPECT_EQ(histogram.bucket(1), 1u);
  EXPECT_EQ(histogram.bucket(LatencyHistogram::kBuckets - 1), 1u);
  EXPECT_EQ(histogram.sumMicros(), 20'000'111u);
}

TEST(Metrics, NodeSlotsAreClaimedOncePerNodeAndRole) {
  auto metrics = std::make_unique<WorkerMetrics>();
  NodeMetrics* master = metrics->node(config::loopbackAddress(7001), NodeRole::Master);
  NodeMetrics* again = metrics->node(config::loopbackAddress(7001), NodeRole::Master);
  NodeMetrics* as_replica = metrics->node(config::loopbackAddress(7001), NodeRole::Replica);
  EXPECT_EQ(master, again);
  EXPECT_NE(master, as_replica);
  for (std::uint16_t port = 8000; port < 8000 + WorkerMetrics::kMaxNodes - 2; ++port) {
    EXPECT_NE(metrics->node(config::loopbackAddress(port), NodeRole::Replica), nullptr);
  }
  EXPECT_EQ(metrics->node(config::loopbackAddress(9999), NodeRole::Replica), nullptr);
}

TEST(Metrics, ExpositionSumsTheWorkersAndMakesBucketsCumulative) {
  auto first = std::make_unique<WorkerMetrics>();
  auto second = std::make_unique<WorkerMetrics>();
  first->commands[commandClassIndex(router::TargetKind::Read)].add(3);
  second->commands[commandClassIndex(router::TargetKind::Read)].add(4);
  first->latency.observe(60);
  second->latency.observe(40);
  second->latency.observe(30'000'000);
  first->node(config::loopbackAddress(7002), NodeRole::Replica)->requests.add(5);
  second->node(config::loopbackAddress(7002), NodeRole::Replica)->requests.add(6);
  health::Topology topology;
  topology.status = health::MasterStatus::Confirmed;
  topology.master = config::loopbackAddress(7001);
  topology.replicas.push_back({config::loopbackAddress(7002), true, "", 250});
  MetricsInputs inputs;
  inputs.workers = {first.get(), second.get()};
  inputs.topology = &topology;
  inputs.version = "test";
  const std::string text = renderMetrics(inputs);
  auto has = [&](const std::string& line) { return text.find(line + "\n") != std::string::npos; };
  EXPECT_TRUE(has("redis_ha_proxy_commands_total{class=\"read\"} 7")) << text;
  EXPECT_TRUE(has("redis_ha_proxy_request_duration_seconds_bucket{le=\"5e-05\"} 1")) << text;
  EXPECT_TRUE(has("redis_ha_proxy_request_duration_seconds_bucket{le=\"0.0001\"} 2")) << text;
  EXPECT_TRUE(has("redis_ha_proxy_request_duration_seconds_bucket{le=\"+Inf\"} 3")) << text;
  EXPECT_TRUE(has("redis_ha_proxy_request_duration_seconds_count 3")) << text;
  EXPECT_TRUE(
      has("redis_ha_proxy_backend_requests_total{address=\"127.0.0.1:7002\",role=\"replica\"} 11"))
      << text;
  EXPECT_TRUE(has("redis_ha_proxy_master_info{address=\"127.0.0.1:7001\"} 1")) << text;
  EXPECT_TRUE(has("redis_ha_proxy_replica_lag_seconds{address=\"127.0.0.1:7002\"} 0.25")) << text;
  EXPECT_TRUE(has("# TYPE redis_ha_proxy_request_duration_seconds histogram")) << text;
}

std::string bulkOf(const std::string& body) {
  return "$" + std::to_string(body.size()) + "\r\n" + body + "\r\n";
}

TEST(ProxyCommands, AppendsTheProxySectionToABulkReply) {
  EXPECT_EQ(appendToBulk(bulkOf("# Server\r\na:1\r\n"), "# Proxy\r\nb:2\r\n"),
            bulkOf("# Server\r\na:1\r\n\r\n# Proxy\r\nb:2\r\n"));
  EXPECT_EQ(appendToBulk("-ERR nope\r\n", "# Proxy\r\n"), "-ERR nope\r\n");
  EXPECT_EQ(appendToBulk("$-1\r\n", "# Proxy\r\n"), "$-1\r\n");
  EXPECT_EQ(appendToBulk("$5\r\nab\r\n", "x"), "$5\r\nab\r\n");  // length mismatch: untouched
}

}  // namespace
}  // namespace rhp::proxy
