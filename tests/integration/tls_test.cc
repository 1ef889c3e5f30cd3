#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "router/errors.h"
#include "tests/support/child_process.h"
#include "tests/support/free_port.h"
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

/* The proxy's TLS port on `port`, with the lab's server certificate and
 * client certificates from the lab's CA required (Redis's default). */
std::string tlsPortToml(const Lab& lab, std::uint16_t port, const std::string& more = "") {
  const std::string dir = lab.tlsDir();
  return "[proxy]\ntls_listen = \"127.0.0.1:" + std::to_string(port) + "\"\ntls_cert_file = \"" +
         dir + "/server.crt\"\ntls_key_file = \"" + dir + "/server.key\"\ntls_ca_cert_file = \"" +
         dir + "/ca.crt\"\n" + more;
}

/* As redis-cli --tls --cacert ca.crt --cert <certificate>.crt --key ...;
 * `certificate` empty: none. */
RespClient::Tls clientTls(const Lab& lab, const std::string& ca = "ca",
                          const std::string& certificate = "client") {
  const std::string dir = lab.tlsDir();
  if (certificate.empty()) return {dir + "/" + ca + ".crt", "", ""};
  return {dir + "/" + ca + ".crt", dir + "/" + certificate + ".crt",
          dir + "/" + certificate + ".key"};
}

std::string run(const std::string& command, int* status = nullptr) {
  std::string out;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return out;
  char buffer[4096];
  while (const std::size_t got = std::fread(buffer, 1, sizeof(buffer), pipe))
    out.append(buffer, got);
  const int rc = pclose(pipe);
  if (status != nullptr) *status = rc;
  return out;
}

/* Every hop TLS: clients to the proxy's TLS port, the proxy to the
 * sentinels and to the nodes (pooled connections and the control plane's
 * probes), the nodes and sentinels among themselves, with client
 * certificates required everywhere. */
TEST(TlsLab, PipelinesLargeValuesPubSubAndAFailoverWorkOverTls) {
  Lab lab(tlsLab());
  const std::uint16_t tls_port = freePort();
  ProxyProcess proxy(lab.dir(), lab.proxyArgs(lab.tlsToml() + tlsPortToml(lab, tls_port)));
  ASSERT_TRUE(proxy.waitUntilWritable()) << proxy.log();
  ASSERT_TRUE(proxy.waitForEligibleReplicas(2)) << proxy.log();
  const RespClient::Tls tls = clientTls(lab);

  // redis-cli --tls through the proxy answers what it answers from a node.
  const std::string cli = "timeout 10 redis-cli --tls --cacert " + tls.ca_cert_file + " --cert " +
                          tls.cert_file + " --key " + tls.key_file + " -p ";
  const std::string node_port = std::to_string(lab.nodePort(*lab.sentinelMaster()));
  // Each command on keys of its own, directly and through the proxy.
  for (const std::string command :
       {"SET {}k hello", "GET {}k", "INCRBY {}n 5", "HSET {}h a 1", "HGETALL {}h", "LPUSH {}l x y",
        "LRANGE {}l 0 -1", "TYPE {}h", "GET {}missing"}) {
    auto keyed = [&](const std::string& prefix) {
      std::string line = command;
      line.replace(line.find("{}"), 2, prefix);
      return line;
    };
    const std::string direct = run(cli + node_port + " " + keyed("tls:direct:"));
    EXPECT_EQ(run(cli + std::to_string(tls_port) + " " + keyed("tls:proxied:")), direct) << command;
    EXPECT_FALSE(direct.empty()) << command;
  }

  // redis-py with its TLS options, through its whole compatibility script.
  int status = -1;
  const std::string said =
      run(std::string("/usr/bin/python3 ") + RHP_SOURCE_DIR + "/tests/compat/redis_py_compat.py " +
              std::to_string(tls_port) + " " + tls.ca_cert_file + " " + tls.cert_file + " " +
              tls.key_file,
          &status);
  EXPECT_EQ(status, 0) << said;
  EXPECT_NE(said.find("all checks passed"), std::string::npos) << said;

  // The plain port works beside it.
  EXPECT_EQ(RespClient(proxy.port()).call({"GET", "tls:proxied:k"}), "$5\r\nhello\r\n");

  RespClient client(tls_port, 10s, &tls);
  ASSERT_TRUE(client.connected()) << client.tlsError();
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

  RespClient subscriber(tls_port, 10s, &tls);
  subscriber.sendRaw(RespClient::encode({"SUBSCRIBE", "tls:news"}));
  ASSERT_TRUE(subscriber.readReply());
  EXPECT_EQ(client.call({"PUBLISH", "tls:news", "hello"}), ":1\r\n");
  EXPECT_EQ(subscriber.readReply().value_or(""),
            "*3\r\n$7\r\nmessage\r\n$8\r\ntls:news\r\n$5\r\nhello\r\n");

  WriteWorkload workload(tls_port, 4, "tls", &tls);
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
  auto refusesWritesAndLogs = [&](const std::string& toml, const std::string& reason,
                                  bool measure_retries = false) {
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
    // Retrying does not mend it: the control plane's links to the three
    // sentinels back off (to 2 s) instead of a handshake per command (54 a
    // second before, 3 after, measured over 10 s).
    auto failures = [&] {
      double sum = 0;
      std::istringstream lines(httpGet(proxy.adminPort(), "/metrics").body);
      for (std::string line; std::getline(lines, line);) {
        if (line.starts_with("redis_ha_proxy_control_tls_failures_total{")) {
          sum += std::stod(line.substr(line.rfind(' ') + 1));
        }
      }
      return sum;
    };
    if (!measure_retries) return;
    std::this_thread::sleep_for(3s);  // past the first, shorter backoffs
    const double before = failures();
    std::this_thread::sleep_for(3s);
    EXPECT_LE(failures() - before, 20) << proxy.log();
  };
  // The lab's certificates come from ca.crt, which this CA did not sign
  // (OpenSSL names the lab CA's self-signed certificate that the nodes send).
  refusesWritesAndLogs(
      tlsToml(lab, "other-ca.crt", ""),
      "TLS: certificate verify failed: self-signed certificate in certificate chain", true);
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

  // Plain TCP to the TLS-only sentinels: an error that says so, not a
  // silent reconnect loop.
  {
    ProxyProcess plain(lab.dir(), lab.proxyArgs());
    EXPECT_TRUE(Lab::waitUntil(
        [&] {
          return plain.countInLog(
                     "reason=\"closed by the peer before answering (a TLS-only port? "
                     "then set tls = true in [backend] and [sentinel])\"") > 0;
        },
        10s))
        << plain.log();
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

/* Copies the lab's `name`.crt and .key to `to`.crt and .key: the files a
 * proxy's config names, rotated under it. */
void installCertificate(const Lab& lab, const std::string& name, const std::string& to) {
  copyFile(lab.tlsDir() + "/" + name + ".crt", to + ".crt");
  copyFile(lab.tlsDir() + "/" + name + ".key", to + ".key");
}

/* SIGHUP reads the certificate files again: a file that no longer loads is
 * refused with the running ones kept; a new certificate is used by new
 * connections, while those up keep theirs; no client is dropped. */
TEST(TlsLab, SighupRotatesTheClientCertificateWithoutDroppingAClient) {
  Lab lab(tlsLab());
  const std::string mine = lab.dir() + "/proxy";
  auto install = [&](const std::string& name) { installCertificate(lab, name, mine); };
  install("client");
  ProxyProcess proxy(lab.dir(), lab.proxyArgs(tlsToml(lab, "ca.crt", "", "proxy", lab.dir())));
  ASSERT_TRUE(proxy.waitUntilWritable()) << proxy.log();
  RespClient client(proxy.port());  // the same connection all through
  // waitUntilWritable asked through one worker; this client may be on the
  // other, whose TLS connections may still be coming up on a loaded box
  // (a CI run once answered MASTERDOWN here after failover.hold_ms).
  ASSERT_TRUE(Lab::waitUntil(
      [&] {
        return client.call({"SET", "tls:rotate", "1"}) == "+OK\r\n";
      },
      15s))
      << proxy.log();

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

/* Users on TLS every hop: proxy.auth = "passthrough" over the TLS port,
 * the login checks and the users' own connections to the nodes in TLS
 * too; the user gets Redis's rights and answers, and a wrong password
 * Redis's refusal. */
TEST(TlsLab, PassthroughUsersLogInOverTlsOnEveryHop) {
  Lab lab(tlsLab());
  for (std::size_t node = 0; node < lab.nodeCount(); ++node) {
    ASSERT_EQ(lab.connectNode(node)->call(
                  {"ACL", "SETUSER", "reader", "on", ">rpw", "~tls:*", "+@read", "+ping"}),
              "+OK\r\n");
  }
  const std::uint16_t tls_port = freePort();
  ProxyProcess proxy(
      lab.dir(),
      lab.proxyArgs(lab.tlsToml() + tlsPortToml(lab, tls_port, "auth = \"passthrough\"\n")));
  ASSERT_TRUE(proxy.waitUntilWritable()) << proxy.log();
  const RespClient::Tls tls = clientTls(lab);
  RespClient direct(lab.nodePort(*lab.sentinelMaster()), std::chrono::seconds(10), &tls);
  RespClient client(tls_port, std::chrono::seconds(10), &tls);
  for (auto* side : {&direct, &client}) {
    EXPECT_EQ(side->call({"AUTH", "reader", "nope"}),
              "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
    ASSERT_EQ(side->call({"AUTH", "reader", "rpw"}), "+OK\r\n");
  }
  for (const std::vector<std::string>& command : {std::vector<std::string>{"GET", "tls:users"},
                                                  {"SET", "tls:users", "1"},
                                                  {"GET", "other:users"},
                                                  {"PING"},
                                                  {"ECHO", "x"}}) {
    EXPECT_EQ(client.call(command), direct.call(command)) << command[0];
  }
  EXPECT_EQ(client.call({"SET", "tls:users", "1"}),
            "-NOPERM this user has no permissions to run the 'set' command\r\n");
}

/* node-redis 6 and ioredis 6 with their own TLS options (ca, cert, key),
 * RESP3 included: their scenarios (tests/compat/node/scenarios.js) give the
 * application the same values from a TLS redis-server and from the proxy's
 * TLS port. */
TEST(TlsLab, NodeLibrariesWithTheirTlsOptionsSeeWhatRedisGivesThem) {
  Lab lab(tlsLab());
  const std::uint16_t tls_port = freePort();
  ProxyProcess proxy(lab.dir(), lab.proxyArgs(lab.tlsToml() + tlsPortToml(lab, tls_port)));
  ASSERT_TRUE(proxy.waitUntilWritable()) << proxy.log();
  ASSERT_TRUE(proxy.waitForEligibleReplicas(2)) << proxy.log();
  const std::uint16_t master_port = lab.nodePort(*lab.sentinelMaster());
  auto scenarios = [&](const std::string& library, std::uint16_t port) {
    int status = -1;
    const std::string out =
        run("RHP_TLS_DIR=" + lab.tlsDir() + " timeout 120 node " + RHP_SOURCE_DIR +
                "/tests/compat/node/scenarios.js " + library + " " + std::to_string(port) + " tls",
            &status);
    EXPECT_EQ(status, 0) << library << " on port " << port << ":\n" << out;
    return out;
  };
  for (const std::string library : {"node-redis", "ioredis"}) {
    const std::string direct = scenarios(library, master_port);
    EXPECT_NE(direct.find("\"scenario\":\"binaryKeys\",\"ok\":true"), std::string::npos) << direct;
    EXPECT_EQ(scenarios(library, tls_port), direct) << library << "\nproxy log:\n" << proxy.log();
  }
}

/* redis_ha_proxy_client_tls_failures_total{reason="`reason`"} in /metrics. */
std::string tlsFailures(const ProxyProcess& proxy, const std::string& reason) {
  const std::string metrics = httpGet(proxy.adminPort(), "/metrics").body;
  const std::string key = "redis_ha_proxy_client_tls_failures_total{reason=\"" + reason + "\"} ";
  const auto at = metrics.find(key);
  if (at == std::string::npos) return "missing";
  return metrics.substr(at + key.size(), metrics.find('\n', at) - at - key.size());
}

/* Each way a client can be wrong for the TLS port is refused, counted by
 * reason and logged; SIGHUP gives new clients a new server certificate
 * while those connected keep theirs. */
TEST(TlsLab, TheTlsPortSaysWhyAClientIsRefusedAndRotatesItsCertificate) {
  Lab lab(tlsLab());
  const std::string tls = lab.tlsDir();
  const std::string front = lab.dir() + "/front";
  installCertificate(lab, "server", front);
  const std::uint16_t tls_port = freePort();
  // One worker: the control thread logs the reload before the workers take
  // it up, and with one the first client that gets the new certificate
  // shows that every later one will.
  ProxyProcess proxy(
      lab.dir(),
      lab.proxyArgs(lab.tlsToml() + "[proxy]\nworkers = 1\ntls_listen = \"127.0.0.1:" +
                    std::to_string(tls_port) + "\"\ntls_cert_file = \"" + front +
                    ".crt\"\ntls_key_file = \"" + front + ".key\"\ntls_ca_cert_file = \"" + tls +
                    "/ca.crt\"\ntls_handshake_timeout_ms = 1000\n"));
  ASSERT_TRUE(proxy.waitUntilWritable()) << proxy.log();
  const RespClient::Tls good = clientTls(lab);
  RespClient kept(tls_port, 10s, &good);  // connected all through
  ASSERT_EQ(kept.call({"SET", "tls:front", "1"}), "+OK\r\n") << kept.tlsError();

  // No client certificate where one is required (tls_auth_clients "yes",
  // Redis's default). Under TLS 1.3 the client learns it at its first read.
  const RespClient::Tls none = clientTls(lab, "ca", "");
  RespClient anonymous(tls_port, 5s, &none);
  EXPECT_NE(anonymous.call({"PING"}), "+PONG\r\n");
  // An expired client certificate.
  const RespClient::Tls expired = clientTls(lab, "ca", "expired");
  RespClient late(tls_port, 5s, &expired);
  EXPECT_NE(late.call({"PING"}), "+PONG\r\n");
  EXPECT_TRUE(Lab::waitUntil([&] { return tlsFailures(proxy, "certificate") == "2"; }, 5s))
      << tlsFailures(proxy, "certificate");
  // The client does not trust the proxy's certificate: its alert.
  const RespClient::Tls distrust = clientTls(lab, "other-ca");
  RespClient wary(tls_port, 5s, &distrust);
  EXPECT_FALSE(wary.connected());
  EXPECT_NE(wary.tlsError().find("certificate verify failed"), std::string::npos)
      << wary.tlsError();
  EXPECT_TRUE(Lab::waitUntil([&] { return tlsFailures(proxy, "peer_alert") == "1"; }, 5s));
  // Plain RESP to the TLS port: told so, in plain text, and closed.
  RespClient plain(tls_port, 5s);
  EXPECT_EQ(plain.call({"PING"}),
            "-ERR redis-ha-proxy: this port speaks TLS only; connect with TLS (redis-cli --tls) "
            "or to the plain port\r\n");
  EXPECT_TRUE(plain.waitForClose());
  EXPECT_EQ(tlsFailures(proxy, "plaintext"), "1");
  // A connection that never starts a handshake is closed after
  // proxy.tls_handshake_timeout_ms (1 s here, checked once a second).
  RespClient silent(tls_port, 5s);
  const auto opened = std::chrono::steady_clock::now();
  EXPECT_TRUE(silent.waitForClose());
  EXPECT_LT(std::chrono::steady_clock::now() - opened, 4s);
  EXPECT_EQ(tlsFailures(proxy, "handshake_timeout"), "1");
  EXPECT_GE(proxy.countInLog("client TLS failed"), 1u) << proxy.log();
  EXPECT_NE(proxy.countInLog("reason=\"peer did not return a certificate\""), 0u) << proxy.log();

  // Rotation: a certificate from another CA, for clients from now on.
  installCertificate(lab, "other-server", front);
  proxy.signal(SIGHUP);
  ASSERT_TRUE(
      Lab::waitUntil([&] { return proxy.countInLog("TLS certificate files read again") == 1; }, 5s))
      << proxy.log();
  // Trusts the other CA, shows the lab's certificate.
  EXPECT_TRUE(Lab::waitUntil(
      [&] {
        RespClient rotated(tls_port, 5s, &distrust);
        return rotated.call({"GET", "tls:front"}) == "$1\r\n1\r\n";
      },
      5s));
  RespClient stale(tls_port, 5s, &good);
  EXPECT_FALSE(stale.connected());
  EXPECT_EQ(kept.call({"INCR", "tls:front"}), ":2\r\n") << "a connected client was dropped";

  // tls_auth_clients "optional": a certificate is checked if shown.
  const std::uint16_t optional_port = freePort();
  ProxyProcess optional(
      lab.dir(), lab.proxyArgs(lab.tlsToml() + tlsPortToml(lab, optional_port,
                                                           "tls_auth_clients = \"optional\"\n")));
  ASSERT_TRUE(optional.waitUntilWritable()) << optional.log();
  const std::string info = RespClient(optional.port()).call({"PROXY", "INFO"});
  EXPECT_NE(info.find("tls_listen:127.0.0.1:" + std::to_string(optional_port) + "\r\n"),
            std::string::npos)
      << info;
  RespClient shown(optional_port, 5s, &good);
  EXPECT_EQ(shown.call({"PING"}), "+PONG\r\n");
  RespClient unshown(optional_port, 5s, &none);
  EXPECT_EQ(unshown.call({"PING"}), "+PONG\r\n");
  RespClient bad(optional_port, 5s, &expired);
  EXPECT_NE(bad.call({"PING"}), "+PONG\r\n");
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
  const std::string mine = lab.dir() + "/proxy";
  auto install = [&](const std::string& name) { installCertificate(lab, name, mine); };
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
