#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cctype>
#include <chrono>
#include <fstream>
#include <iostream>
#include <string>

#include "tests/support/child_process.h"
#include "tests/support/free_port.h"
#include "tests/support/http_client.h"
#include "tests/support/lab.h"
#include "tests/support/proxy_process.h"
#include "tests/support/resp_client.h"
#include "tests/support/shared_lab_test.h"

namespace rhp::test {
namespace {

using namespace std::chrono_literals;

class AdminEndpoint : public SharedLabTest {
 protected:
  static std::string metrics() {
    const HttpResponse response = httpGet(proxy_->adminPort(), "/metrics");
    EXPECT_EQ(response.status, 200) << response.raw;
    return response.body;
  }
};

TEST_F(AdminEndpoint, MetricsPassPromtoolAndCountTraffic) {
  const std::string before = metrics();
  RespClient client(proxy_->port());
  for (int i = 0; i < 20; ++i) ASSERT_EQ(client.call({"SET", "admin:k", "v"}), "+OK\r\n");
  ASSERT_EQ(client.call({"LPUSH", "admin:k", "x"}).rfind("-WRONGTYPE", 0), 0u);
  ASSERT_EQ(client.call({"DEBUG", "SLEEP", "0"}).rfind("-ERR 'debug' is disabled", 0), 0u);
  const std::string after = metrics();

  const PromtoolVerdict verdict = promtoolCheckMetrics(after, lab_->dir());
  EXPECT_TRUE(verdict.accepted) << verdict.output << "\n" << after;

  auto delta = [&](const std::string& series) {
    return sampleValue(after, series) - std::max(0.0, sampleValue(before, series));
  };
  EXPECT_GE(delta("redis_ha_proxy_commands_total{class=\"master\"}"), 21);
  EXPECT_EQ(delta("redis_ha_proxy_commands_total{class=\"refused\"}"), 1);
  EXPECT_EQ(delta("redis_ha_proxy_errors_total{kind=\"redis\"}"), 1);
  EXPECT_EQ(delta("redis_ha_proxy_errors_total{kind=\"refused\"}"), 1);
  EXPECT_GE(delta("redis_ha_proxy_request_duration_seconds_count"), 21);
  EXPECT_GE(delta("redis_ha_proxy_client_connections_accepted_total"), 1);
  EXPECT_GE(sampleValue(after, "redis_ha_proxy_client_connections"), 1);
  const std::string master = "127.0.0.1:" + std::to_string(lab_->nodePort(*lab_->sentinelMaster()));
  EXPECT_EQ(sampleValue(after, "redis_ha_proxy_master_info{address=\"" + master + "\"}"), 1)
      << after;
  EXPECT_GE(
      delta("redis_ha_proxy_backend_requests_total{address=\"" + master + "\",role=\"master\"}"),
      21);
  EXPECT_EQ(sampleValue(after, "redis_ha_proxy_write_lease_valid"), 1);
  for (std::size_t s = 0; s < 3; ++s) {
    EXPECT_EQ(sampleValue(after, "redis_ha_proxy_sentinel_up{address=\"127.0.0.1:" +
                                     std::to_string(lab_->sentinelPort(s)) + "\"}"),
              1)
        << after;
  }
}

TEST_F(AdminEndpoint, HealthReadinessAndErrors) {
  const HttpResponse health = httpGet(proxy_->adminPort(), "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_TRUE(health.closed) << "one request per connection";
  const HttpResponse ready = httpGet(proxy_->adminPort(), "/readyz");
  EXPECT_EQ(ready.status, 200) << ready.raw;
  EXPECT_NE(ready.body.find("ready: writes go to 127.0.0.1:"), std::string::npos) << ready.body;
  EXPECT_EQ(httpGet(proxy_->adminPort(), "/nothing-here").status, 404);
  const HttpResponse head =
      httpExchange(proxy_->adminPort(), "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(httpExchange(proxy_->adminPort(), "POST /metrics HTTP/1.1\r\n\r\n").status, 405);
  // Not HTTP at all, or headers that never end: 400 and the connection closed.
  const HttpResponse resp = httpExchange(proxy_->adminPort(), "*1\r\n$4\r\nPING\r\n\r\n");
  EXPECT_EQ(resp.status, 400);
  EXPECT_TRUE(resp.closed);
  const HttpResponse endless =
      httpExchange(proxy_->adminPort(), "GET / HTTP/1.1\r\nX: " + std::string(20000, 'a'));
  EXPECT_EQ(endless.status, 400);
  EXPECT_TRUE(endless.closed);
  // A scraper that connects and says nothing does not stop others.
  RespClient silent(proxy_->adminPort());
  EXPECT_EQ(httpGet(proxy_->adminPort(), "/healthz").status, 200);
}

TEST_F(AdminEndpoint, ProxyCommandsAndInfoShowWhatTheProxySees) {
  RespClient client(proxy_->port());
  const std::string master = "127.0.0.1:" + std::to_string(lab_->nodePort(*lab_->sentinelMaster()));
  const std::string info = RespClient::valueOf(client.call({"PROXY", "INFO"}));
  EXPECT_NE(info.find("# Proxy\r\n"), std::string::npos) << info;
  EXPECT_NE(info.find("master:" + master + "\r\n"), std::string::npos) << info;
  EXPECT_NE(info.find("master_status:confirmed\r\n"), std::string::npos) << info;
  EXPECT_NE(info.find("replicas:2\r\n"), std::string::npos) << info;
  EXPECT_NE(info.find("workers:"), std::string::npos) << info;
  const std::string topology = RespClient::valueOf(client.call({"proxy", "topology"}));
  EXPECT_NE(topology.find("master:" + master), std::string::npos) << topology;
  EXPECT_NE(topology.find("replica0:address=127.0.0.1:"), std::string::npos) << topology;

  const std::string config = client.call({"PROXY", "CONFIG", "GET", "routing.read_*"});
  EXPECT_EQ(config,
            "*4\r\n$19\r\nrouting.read_policy\r\n$14\r\nprefer-replica\r\n"
            "$24\r\nrouting.read_your_writes\r\n$4\r\ntrue\r\n");
  EXPECT_EQ(client.call({"PROXY", "CONFIG", "GET", "nothing*"}), "*0\r\n");
  EXPECT_EQ(client.call({"PROXY", "NOPE"}).rfind("-ERR unknown PROXY subcommand", 0), 0u);

  // INFO is the master's, with the proxy's section after it.
  const std::string full = RespClient::valueOf(client.call({"INFO"}));
  EXPECT_NE(full.find("# Replication\r\nrole:master"), std::string::npos) << full;
  EXPECT_NE(full.find("\r\n# Proxy\r\nproxy_version:"), std::string::npos) << full;
  const std::string replication = RespClient::valueOf(client.call({"INFO", "replication"}));
  EXPECT_EQ(replication.rfind("# Replication\r\nrole:master", 0), 0u) << replication;
  EXPECT_NE(replication.find("# Proxy"), std::string::npos);
  // redis-cli parses it as usual.
  EXPECT_EQ(client.call({"PING"}), "+PONG\r\n");
}

/* The Grafana dashboard asks only for series the proxy exports, in PromQL
 * that Prometheus accepts (promtool checks each expression as a rule). */
TEST_F(AdminEndpoint, DashboardQueriesOnlyExportedMetrics) {
  const std::string exposition = metrics();
  const std::string dashboard =
      readFile(std::string(RHP_SOURCE_DIR) + "/dashboards/redis-ha-proxy.json");
  ASSERT_FALSE(dashboard.empty());
  // Every metric name in the dashboard (std::regex trips GCC 12 warnings
  // under the sanitizers, so the text is scanned by hand).
  std::size_t names = 0;
  for (auto at = dashboard.find("redis_ha_proxy_"); at != std::string::npos;
       at = dashboard.find("redis_ha_proxy_", at + 1), ++names) {
    std::size_t end = at;
    while (end < dashboard.size() &&
           (std::islower(static_cast<unsigned char>(dashboard[end])) || dashboard[end] == '_')) {
      ++end;
    }
    const std::string name = dashboard.substr(at, end - at);
    const bool exported = exposition.find("\n" + name + "{") != std::string::npos ||
                          exposition.find("\n" + name + " ") != std::string::npos;
    EXPECT_TRUE(exported) << name << " is in the dashboard but not in /metrics";
  }
  EXPECT_GT(names, 15u);

  // Each "expr" value, JSON-unescaped, as a recording rule for promtool.
  std::string rules = "groups:\n  - name: dashboard\n    rules:\n";
  std::size_t exprs = 0;
  const std::string field = "\"expr\": \"";
  for (auto at = dashboard.find(field); at != std::string::npos;
       at = dashboard.find(field, at + 1)) {
    std::string expr;
    for (std::size_t i = at + field.size(); i < dashboard.size() && dashboard[i] != '"'; ++i) {
      if (dashboard[i] == '\\' && i + 1 < dashboard.size()) ++i;
      expr += dashboard[i] == '\'' ? std::string("''") : std::string(1, dashboard[i]);
    }
    rules += "      - record: dashboard:expr_" + std::to_string(exprs++) + "\n        expr: '" +
             expr + "'\n";
  }
  EXPECT_GT(exprs, 15u);
  const std::string rules_path = lab_->dir() + "/dashboard-rules.yml";
  std::ofstream(rules_path) << rules;
  const std::string command = "promtool check rules '" + rules_path + "' 2>&1";
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  char buffer[4096];
  while (const std::size_t got = fread(buffer, 1, sizeof(buffer), pipe)) output.append(buffer, got);
  const int status = pclose(pipe);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << output << "\n" << rules;
}

/* A failover shows as a new redis_ha_proxy_master_info address and a
 * master change. */
TEST(AdminEndpointFailover, MasterInfoFollowsTheFailover) {
  Lab lab;
  ProxyProcess proxy(lab.dir(), lab.proxyArgs());
  ASSERT_TRUE(proxy.waitUntilWritable()) << proxy.log();
  const std::size_t old_master = *lab.sentinelMaster();
  const std::string old_address = "127.0.0.1:" + std::to_string(lab.nodePort(old_master));
  std::string text = httpGet(proxy.adminPort(), "/metrics").body;
  EXPECT_EQ(sampleValue(text, "redis_ha_proxy_master_info{address=\"" + old_address + "\"}"), 1);
  EXPECT_EQ(sampleValue(text, "redis_ha_proxy_master_changes_total"), 0);
  ASSERT_EQ(lab.sentinelFailover(), "+OK\r\n");
  const auto promoted = lab.waitForNewMaster(old_master, 30s);
  ASSERT_TRUE(promoted) << proxy.log();
  const std::string new_address = "127.0.0.1:" + std::to_string(lab.nodePort(*promoted));
  EXPECT_TRUE(Lab::waitUntil(
      [&] {
        text = httpGet(proxy.adminPort(), "/metrics").body;
        return sampleValue(text, "redis_ha_proxy_master_info{address=\"" + new_address + "\"}") ==
               1;
      },
      10s))
      << text;
  EXPECT_EQ(sampleValue(text, "redis_ha_proxy_master_info{address=\"" + old_address + "\"}"), -1);
  EXPECT_EQ(sampleValue(text, "redis_ha_proxy_master_changes_total"), 1);
  EXPECT_EQ(sampleValue(text, "redis_ha_proxy_failovers_total"), 1);
}

std::string urlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) != 0 || c == '_' || c == '.' || c == '-') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

/* A real Prometheus server scraping the proxy every second. */
class PrometheusServer {
 public:
  PrometheusServer(const std::string& dir, std::uint16_t target_port) : port_(freePort()) {
    const std::string config = dir + "/prometheus.yml";
    std::ofstream(config) << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                          << "scrape_configs:\n  - job_name: redis-ha-proxy\n"
                          << "    static_configs:\n      - targets: ['127.0.0.1:" << target_port
                          << "']\n";
    process_ = ChildProcess(
        {"prometheus", "--config.file=" + config, "--storage.tsdb.path=" + dir + "/prometheus-data",
         "--web.listen-address=127.0.0.1:" + std::to_string(port_)},
        dir + "/prometheus.log");
  }
  /* The body of an instant query through the HTTP API. */
  std::string query(const std::string& promql) const {
    return httpGet(port_, "/api/v1/query?query=" + urlEncode(promql)).body;
  }

 private:
  std::uint16_t port_;
  ChildProcess process_;
};

/* Prometheus itself scrapes the proxy: a counter moves with traffic, and
 * redis_ha_proxy_master_info names the new master after a failover. */
TEST(PrometheusScrape, SeesTrafficAndTheMasterChange) {
  Lab lab;
  ProxyProcess proxy(lab.dir(), lab.proxyArgs());
  ASSERT_TRUE(proxy.waitUntilWritable()) << proxy.log();
  PrometheusServer prometheus(lab.dir(), proxy.adminPort());
  const std::size_t old_master = *lab.sentinelMaster();
  const std::string old_address = "127.0.0.1:" + std::to_string(lab.nodePort(old_master));
  std::string answer;
  ASSERT_TRUE(Lab::waitUntil(
      [&] {
        answer = prometheus.query("redis_ha_proxy_master_info{address=\"" + old_address + "\"}");
        return answer.find("\"value\":[") != std::string::npos;
      },
      20s))
      << "Prometheus never scraped the proxy: " << answer << "\n"
      << readFile(lab.dir() + "/prometheus.log");

  const auto started = std::chrono::steady_clock::now();
  auto phase = [&](const char* what) {
    std::cout << what << " after "
              << std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - started)
                     .count()
              << " ms\n";
  };
  phase("first scrape seen");
  RespClient client(proxy.port());
  for (int i = 0; i < 500; ++i)
    ASSERT_EQ(client.call({"INCR", "scrape:counter"}), ":" + std::to_string(i + 1) + "\r\n");
  EXPECT_TRUE(Lab::waitUntil(
      [&] {
        answer = prometheus.query("sum(redis_ha_proxy_commands_total{class=\"master\"}) >= 500");
        return answer.find("\"value\":[") != std::string::npos;
      },
      10s))
      << answer;

  phase("traffic counted");
  ASSERT_EQ(lab.sentinelFailover(), "+OK\r\n");
  const auto promoted = lab.waitForNewMaster(old_master, 30s);
  ASSERT_TRUE(promoted);
  phase("failover done");
  const std::string new_address = "127.0.0.1:" + std::to_string(lab.nodePort(*promoted));
  EXPECT_TRUE(Lab::waitUntil(
      [&] {
        answer = prometheus.query("redis_ha_proxy_master_info{address=\"" + new_address + "\"}");
        return answer.find("\"value\":[") != std::string::npos;
      },
      20s))
      << answer;
  phase("new master seen");
  answer = prometheus.query("redis_ha_proxy_master_changes_total");
  EXPECT_NE(answer.find("\"1\"]"), std::string::npos) << answer;
}

}  // namespace
}  // namespace rhp::test
