#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "router/errors.h"
#include "tests/support/child_process.h"
#include "tests/support/http_client.h"
#include "tests/support/lab.h"
#include "tests/support/proxy_process.h"
#include "tests/support/resp_client.h"
#include "tests/support/write_workload.h"

namespace rhp::test {
namespace {

using namespace std::chrono_literals;

Lab::Options tlsLab() {
  Lab::Options options;
  options.tls = true;
  return options;
}

/* The TLS keys of a [backend] or [sentinel] section: `ca` and the client
 * certificate `certificate`.crt/.key from `dir` (the lab's files by
 * default), and `more`. */
std::string tlsSection(const Lab& lab, const std::string& ca, const std::string& more,
                       const std::string& certificate = "client", std::string dir = "") {
  if (dir.empty()) dir = lab.tlsDir();
  return "tls = true\ntls_ca_cert_file = \"" + lab.tlsDir() + "/" + ca + "\"\ntls_cert_file = \"" +
         dir + "/" + certificate + ".crt\"\ntls_key_file = \"" + dir + "/" + certificate +
         ".key\"\n" + more;
}

/* The proxy's [backend] and [sentinel] TLS keys, the same in both. */
std::string tlsToml(const Lab& lab, const std::string& ca, const std::string& more,
                    const std::string& certificate = "client", std::string dir = "") {
  const std::string section = tlsSection(lab, ca, more, certificate, std::move(dir));
  return "[failover]\nhold_ms = 0\n[backend]\n" + section + "[sentinel]\n" + section;
}

/* Every link TLS: the proxy to the sentinels and to the nodes (pooled
 * connections and the control plane's probes), the nodes and sentinels
 * among themselves, with client certificates required everywhere. The
 * clients of the proxy still speak plain RESP. */
TEST(TlsLab, PipelinesLargeValuesPubSubAndAFailoverWorkOverTls) {
  Lab lab(tlsLab());
  ProxyProcess proxy(lab.dir(), lab.proxyArgs(lab.tlsToml()));
  ASSERT_TRUE(proxy.waitUntilWritable()) << proxy.log();
  ASSERT_TRUE(proxy.waitForEligibleReplicas(2)) << proxy.log();

  RespClient client(proxy.port());
  std::string pipeline;
  for (int i = 0; i < 1000; ++i) pipeline += RespClient::encode({"INCR", "tls:counter"});
  client.sendRaw(pipeline);
  std::string last;
  for (int i = 0; i < 1000; ++i) last = client.readReply().value_or("");
  EXPECT_EQ(last, ":1000\r\n");

  // Larger than a TLS record (16 KiB) and than one read (64 KiB).
  std::string value(4 * 1024 * 1024, 'v');
  for (std::size_t i = 0; i < value.size(); i += 4096) value[i] = static_cast<char>('a' + i % 26);
  EXPECT_EQ(client.call({"SET", "tls:large", value}), "+OK\r\n");
  EXPECT_EQ(RespClient::valueOf(client.call({"GET", "tls:large"})), value);

  RespClient subscriber(proxy.port());
  subscriber.sendRaw(RespClient::encode({"SUBSCRIBE", "tls:news"}));
  ASSERT_TRUE(subscriber.readReply());
  EXPECT_EQ(client.call({"PUBLISH", "tls:news", "hello"}), ":1\r\n");
  EXPECT_EQ(subscriber.readReply().value_or(""),
            "*3\r\n$7\r\nmessage\r\n$8\r\ntls:news\r\n$5\r\nhello\r\n");

  WriteWorkload workload(proxy.port(), 4, "tls");
  ASSERT_TRUE(Lab::waitUntil([&] { return workload.acknowledged() > 200; }, 5s));
  ASSERT_EQ(lab.sentinelFailover(), "+OK\r\n");
  const auto promoted = lab.waitForNewMaster(0, 30s);
  ASSERT_TRUE(promoted);
  EXPECT_TRUE(Lab::waitUntil([&] { return lab.role(0) == "slave"; }, 40s));
  const long before = workload.acknowledged();
  EXPECT_TRUE(Lab::waitUntil([&] { return workload.acknowledged() > before + 200; }, 10s));
  workload.stop();
  const auto outcome = workload.check(*lab.connectNode(*promoted, 30s));
  EXPECT_EQ(outcome.lost_counter_increments, 0);
  EXPECT_EQ(outcome.lost_keys, 0);
  EXPECT_TRUE(outcome.errors.empty()) << outcome.errors.front();
  EXPECT_EQ(proxy.countInLog("link failed"), 0u) << proxy.log();
}

/* Each way a TLS link can be wrong gives a log line that says which, and
 * no write goes anywhere. */
TEST(TlsLab, AWrongCaOrNameOrAnExpiredCertificateEachSayWhy) {
  Lab lab(tlsLab());
  auto refusesWritesAndLogs = [&](const std::string& toml, const std::string& reason) {
    ProxyProcess proxy(lab.dir(), lab.proxyArgs(toml));
    EXPECT_TRUE(Lab::waitUntil([&] { return proxy.countInLog(reason) > 0; }, 10s))
        << "expected \"" << reason << "\" in:\n"
        << proxy.log();
    RespClient client(proxy.port());
    EXPECT_NE(client.call({"SET", "tls:refused", "1"}), "+OK\r\n");
    // Counted by reason, not only logged.
    const std::string metrics = httpGet(proxy.adminPort(), "/metrics").body;
    const std::string zero =
        "redis_ha_proxy_control_tls_failures_total{peer=\"sentinel\",reason=\"certificate\"} 0\n";
    EXPECT_NE(metrics.find("redis_ha_proxy_control_tls_failures_total{peer=\"sentinel\","
                           "reason=\"certificate\"} "),
              std::string::npos)
        << metrics;
    EXPECT_EQ(metrics.find(zero), std::string::npos) << metrics;
  };
  // The lab's certificates come from ca.crt, which this CA did not sign
  // (OpenSSL names the lab CA's self-signed certificate that the nodes send).
  refusesWritesAndLogs(
      tlsToml(lab, "other-ca.crt", ""),
      "TLS: certificate verify failed: self-signed certificate in certificate chain");
  refusesWritesAndLogs(tlsToml(lab, "ca.crt", "tls_server_name = \"wrong.test\"\n"),
                       "TLS: certificate verify failed: hostname mismatch");

  // The same name with the chain alone checked (what redis-server checks of
  // its master): accepted. The certificates name 127.0.0.1 and redis.test.
  {
    ProxyProcess proxy(lab.dir(),
                       lab.proxyArgs(tlsToml(lab, "ca.crt",
                                             "tls_server_name = \"wrong.test\"\ntls_verify = "
                                             "\"chain\"\n")));
    EXPECT_TRUE(proxy.waitUntilWritable()) << proxy.log();
  }
  {
    ProxyProcess proxy(lab.dir(),
                       lab.proxyArgs(tlsToml(lab, "ca.crt", "tls_server_name = \"redis.test\"\n")));
    EXPECT_TRUE(proxy.waitUntilWritable()) << proxy.log();
  }

  // A client certificate that has expired is refused before anything starts.
  const std::string path = lab.dir() + "/expired.toml";
  std::string expired = tlsToml(lab, "ca.crt", "");
  for (std::size_t at; (at = expired.find("/client.")) != std::string::npos;) {
    expired.replace(at, 8, "/expired.");
  }
  std::ofstream(path) << expired;
  const std::string output = lab.dir() + "/check.out";
  std::vector<std::string> argv{ProxyProcess::binary(), "--config", path, "--check-config"};
  for (const auto& arg : lab.proxyArgs()) argv.push_back(arg);
  ChildProcess check(argv, output);
  const int status = check.wait(10000);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2);
  std::ifstream in(output);
  const std::string said((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(said.find("backend.tls: " + lab.tlsDir() + "/expired.crt: the certificate has expired"),
            std::string::npos)
      << said;
}

void copyFile(const std::string& from, const std::string& to) {
  std::ifstream in(from, std::ios::binary);
  std::ofstream(to, std::ios::binary | std::ios::trunc) << in.rdbuf();
}

/* SIGHUP reads the certificate files again: a file that no longer loads is
 * refused with the running ones kept; a new certificate is used by new
 * connections, while those up keep theirs; no client is dropped. */
TEST(TlsLab, SighupRotatesTheClientCertificateWithoutDroppingAClient) {
  Lab lab(tlsLab());
  const std::string tls = lab.tlsDir();
  const std::string mine = lab.dir() + "/proxy";
  auto install = [&](const std::string& name) {
    copyFile(tls + "/" + name + ".crt", mine + ".crt");
    copyFile(tls + "/" + name + ".key", mine + ".key");
  };
  install("client");
  ProxyProcess proxy(lab.dir(), lab.proxyArgs(tlsToml(lab, "ca.crt", "", "proxy", lab.dir())));
  ASSERT_TRUE(proxy.waitUntilWritable()) << proxy.log();
  RespClient client(proxy.port());  // the same connection all through
  ASSERT_EQ(client.call({"SET", "tls:rotate", "1"}), "+OK\r\n");

  std::ofstream(mine + ".key", std::ios::trunc) << "not a key\n";
  proxy.signal(SIGHUP);
  EXPECT_TRUE(Lab::waitUntil(
      [&] {
        return proxy.countInLog("reload rejected, keeping the running config: backend.tls: " +
                                mine + ".key: ") > 0;
      },
      5s))
      << proxy.log();
  EXPECT_EQ(client.call({"SET", "tls:rotate", "2"}), "+OK\r\n");

  // Signed by a CA the nodes do not trust: loads, and is refused by them.
  install("other-server");
  proxy.signal(SIGHUP);
  ASSERT_TRUE(
      Lab::waitUntil([&] { return proxy.countInLog("TLS certificate files read again") == 1; }, 5s))
      << proxy.log();
  EXPECT_EQ(client.call({"SET", "tls:rotate", "3"}), "+OK\r\n") << "a connection was dropped";
  // New connections only: drop the proxy's (the nodes' own links come back).
  const std::size_t master = *lab.sentinelMaster();
  lab.connectNode(master)->call({"CLIENT", "KILL", "TYPE", "normal"});
  EXPECT_TRUE(Lab::waitUntil(
      [&] {
        return client.call({"SET", "tls:rotate", "4"}) != "+OK\r\n";
      },
      10s));
  EXPECT_TRUE(Lab::waitUntil(
      [&] { return proxy.countInLog("reason=\"TLS: tlsv1 alert unknown ca\"") > 0; }, 5s))
      << proxy.log();

  install("client");
  proxy.signal(SIGHUP);
  EXPECT_TRUE(Lab::waitUntil(
      [&] {
        return client.call({"SET", "tls:rotate", "5"}) == "+OK\r\n";
      },
      15s))
      << proxy.log();
  EXPECT_TRUE(client.connected());
}

/* Drops the proxy's pooled connection to `node` and nothing else: the one
 * that ran a SET (the control plane's links run ROLE, INFO, PING). */
void killPooledConnections(const Lab& lab, std::size_t node) {
  auto admin = lab.connectNode(node);
  const std::string clients = RespClient::valueOf(admin->call({"CLIENT", "LIST"}));
  for (std::size_t line = 0; line < clients.size();) {
    const std::size_t end = std::min(clients.find('\n', line), clients.size());
    const std::string client = clients.substr(line, end - line);
    if (client.find(" cmd=set ") != std::string::npos) {
      const std::size_t id = client.find("id=") + 3;
      admin->call({"CLIENT", "KILL", "ID", client.substr(id, client.find(' ', id) - id)});
    }
    line = end + 1;
  }
}

/* Under TLS 1.3 the proxy's side of the handshake is done before a node has
 * checked the proxy's certificate, and a node that refuses it (signed by a
 * CA it does not trust) sends its alert one round trip later. A connection
 * counts as up only once the node has answered: a pooled one takes no
 * client request before, so writes get the proxy's own "no master" answer,
 * never "outcome unknown" (Redis never ran them), and the pool's reconnect
 * backoff grows to 1 s, where each connection that only looked ready reset
 * it to 25 ms; the control plane's links to the node go down once, not
 * "restored" by every handshake. */
TEST(TlsLab, ANodeRefusingTheClientCertificateAfterTheHandshakeIsNeverReady) {
  Lab lab(tlsLab());
  const std::string tls = lab.tlsDir();
  const std::string mine = lab.dir() + "/proxy";
  auto install = [&](const std::string& name) {
    copyFile(tls + "/" + name + ".crt", mine + ".crt");
    copyFile(tls + "/" + name + ".key", mine + ".key");
  };
  install("client");
  // One worker and one connection per node: one connection slot to count
  // attempts for. The sentinels keep trusting the proxy.
  const std::string toml =
      "[proxy]\nworkers = 1\n[failover]\nhold_ms = 0\n[backend]\nconnections_per_node = 1\n" +
      tlsSection(lab, "ca.crt", "", "proxy", lab.dir()) + "[sentinel]\n" +
      tlsSection(lab, "ca.crt", "");
  ProxyProcess proxy(lab.dir(), lab.proxyArgs(toml));
  ASSERT_TRUE(proxy.waitUntilWritable()) << proxy.log();
  const std::size_t master = *lab.sentinelMaster();
  const std::string address = "127.0.0.1:" + std::to_string(lab.nodePort(master));
  const std::string labels = "{address=\"" + address + "\",role=\"master\"";
  auto metric = [&](const std::string& series) {
    return sampleValue(httpGet(proxy.adminPort(), "/metrics").body, series);
  };
  const std::string connects = "redis_ha_proxy_backend_connects_total" + labels + "}";
  const std::string refusals =
      "redis_ha_proxy_backend_tls_failures_total" + labels + ",reason=\"peer_alert\"}";

  install("other-server");
  proxy.signal(SIGHUP);
  ASSERT_TRUE(
      Lab::waitUntil([&] { return proxy.countInLog("TLS certificate files read again") == 1; }, 5s))
      << proxy.log();
  // The pool reconnects with the new certificate; the control plane's links
  // stay up with the old one, so the master stays confirmed.
  killPooledConnections(lab, master);
  // The reason, where an operator looks (after "connection closed by the
  // backend"), and counted.
  const std::string unreachable =
      "backend unreachable address=" + address + " reason=\"TLS: tlsv1 alert unknown ca\"";
  ASSERT_TRUE(Lab::waitUntil([&] { return proxy.countInLog(unreachable) > 0; }, 5s)) << proxy.log();
  EXPECT_GT(metric(refusals), 0);

  const double connects_before = metric(connects);
  const double refusals_before = metric(refusals);
  RespClient client(proxy.port());
  std::size_t refused = 0;
  std::size_t unknown = 0;
  std::string other;
  for (const auto until = std::chrono::steady_clock::now() + 3s;
       std::chrono::steady_clock::now() < until;) {
    const std::string answer = client.call({"SET", "tls:refused", "1"});
    if (answer == errors::kHoldTimeout) {
      ++refused;
    } else if (answer == errors::kMasterLostInFlight) {
      ++unknown;
    } else {
      other = answer;
    }
  }
  EXPECT_GT(refused, 0u);
  EXPECT_EQ(unknown, 0u) << "writes the node never ran failed as \"outcome unknown\"";
  EXPECT_EQ(other, "");
  // In 3 s the backoff (25 ms doubling to 1 s) allows about 7 attempts;
  // reset to 25 ms by each connection that only looked ready, about 100.
  EXPECT_EQ(metric(connects), connects_before) << "a refused connection counted as set up";
  const double attempts = metric(refusals) - refusals_before;
  EXPECT_GE(attempts, 2) << "the pool stopped trying";
  EXPECT_LE(attempts, 10) << proxy.log();
  EXPECT_EQ(proxy.countInLog(unreachable), 1u) << proxy.log();

  // Now the control plane's links too.
  const std::size_t restored = proxy.countInLog("connection restored");
  lab.connectNode(master)->call({"CLIENT", "KILL", "TYPE", "normal"});
  const std::string failed = "link failed address=" + address;
  ASSERT_TRUE(Lab::waitUntil([&] { return proxy.countInLog(failed) > 0; }, 5s)) << proxy.log();
  std::this_thread::sleep_for(2s);  // what is counted is what does not happen
  EXPECT_EQ(proxy.countInLog("connection restored"), restored) << proxy.log();
  // Said once per link (the ROLE probe's, the replica watcher's), not on
  // every attempt (about 10 a second: the ROLE probe runs every 100 ms
  // while writes are held).
  EXPECT_LE(proxy.countInLog(failed), 3u) << proxy.log();

  install("client");
  proxy.signal(SIGHUP);
  EXPECT_TRUE(Lab::waitUntil(
      [&] {
        return client.call({"SET", "tls:refused", "2"}) == "+OK\r\n";
      },
      15s))
      << proxy.log();
  EXPECT_GT(metric(connects), connects_before);
}

}  // namespace
}  // namespace rhp::test
