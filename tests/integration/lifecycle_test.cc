#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "tests/support/free_port.h"
#include "tests/support/http_client.h"
#include "tests/support/lab.h"
#include "tests/support/proxy_process.h"
#include "tests/support/resp_client.h"

namespace rhp::test {
namespace {

using namespace std::chrono_literals;

/* SIGTERM: no new clients, idle ones are closed, a request in flight still
 * gets its answer, then the proxy exits 0. */
TEST(Lifecycle, SigtermDrainsRequestsInFlightAndExitsZero) {
  Lab lab;
  ProxyProcess proxy(lab.dir(), lab.proxyArgs());
  ASSERT_TRUE(proxy.waitUntilWritable()) << proxy.log();
  RespClient idle(proxy.port());
  ASSERT_EQ(idle.call({"PING"}), "+PONG\r\n");
  RespClient blocked(proxy.port(), 5s);
  blocked.sendRaw(RespClient::encode({"BLPOP", "lifecycle:empty", "2"}));
  std::this_thread::sleep_for(200ms);  // the BLPOP is on its way to the master

  const auto signalled = std::chrono::steady_clock::now();
  proxy.signal(SIGTERM);
  EXPECT_TRUE(idle.waitForClose()) << "an idle client is closed at once";
  EXPECT_TRUE(Lab::waitUntil([&] { return !RespClient(proxy.port(), 200ms).connected(); }, 2s))
      << "still accepting clients while draining";
  const HttpResponse ready = httpGet(proxy.adminPort(), "/readyz");
  EXPECT_EQ(ready.status, 503) << ready.raw;
  EXPECT_EQ(ready.body, "not ready: draining\n");
  // Redis's answer to a BLPOP that timed out, not a closed connection.
  EXPECT_EQ(blocked.readReply().value_or("<closed>"), "*-1\r\n");
  const int status = proxy.waitForExit(5000);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << "\n" << proxy.log();
  EXPECT_LT(std::chrono::steady_clock::now() - signalled, 5s) << "waited for the drain timeout";
  EXPECT_NE(proxy.log().find("drained, exiting"), std::string::npos) << proxy.log();
}

/* SIGHUP re-reads the file: a bad one is rejected with its position and the
 * proxy keeps serving; the read policy changes under a connected client;
 * changes that need a restart are named. */
TEST(Lifecycle, SighupAppliesRoutingRejectsABadFileAndNamesWhatNeedsARestart) {
  Lab lab;
  const std::string path = lab.dir() + "/reload.toml";
  std::ofstream(path) << "[routing]\nread_policy = \"prefer-replica\"\n";
  auto args = lab.proxyArgs();
  args.push_back("--config");
  args.push_back(path);
  ProxyProcess proxy(lab.dir(), args);
  ASSERT_TRUE(proxy.waitUntilWritable()) << proxy.log();

  std::ofstream(path) << "[routing]\nread_policy = \"sometimes\"\n";
  proxy.signal(SIGHUP);
  EXPECT_TRUE(
      Lab::waitUntil([&] { return proxy.log().find("reload rejected") != std::string::npos; }, 5s))
      << proxy.log();
  EXPECT_NE(proxy.log().find("reload.toml:2:"), std::string::npos) << proxy.log();
  RespClient client(proxy.port());
  EXPECT_EQ(client.call({"SET", "lifecycle:k", "v"}), "+OK\r\n");

  // Reads go to the replicas now; after the reload, to the master, on the
  // same client connection (one that has not written: a writer's reads
  // stay on the master until the replicas report its write).
  ASSERT_TRUE(proxy.waitForEligibleReplicas(2)) << proxy.log();
  ASSERT_EQ(client.call({"WAIT", "2", "2000"}), ":2\r\n");
  RespClient reader(proxy.port());
  const std::size_t master = *lab.sentinelMaster();
  auto masterGets = [&] { return lab.commandCalls(master, "get"); };
  const long before = masterGets();
  for (int i = 0; i < 20; ++i) ASSERT_EQ(reader.call({"GET", "lifecycle:k"}), "$1\r\nv\r\n");
  EXPECT_EQ(masterGets(), before) << "prefer-replica reads reached the master";

  std::ofstream(path) << "[proxy]\nworkers = 3\n[routing]\nread_policy = \"master\"\n";
  proxy.signal(SIGHUP);
  EXPECT_TRUE(Lab::waitUntil(
      [&] {
        return proxy.log().find("reload: routing.read_policy: prefer-replica -> master") !=
               std::string::npos;
      },
      5s))
      << proxy.log();
  EXPECT_NE(proxy.log().find("changed but kept until a restart: proxy.workers"), std::string::npos)
      << proxy.log();
  EXPECT_TRUE(Lab::waitUntil(
      [&] {
        return client.call({"PROXY", "CONFIG", "GET", "routing.read_policy"}) ==
               "*2\r\n$19\r\nrouting.read_policy\r\n$6\r\nmaster\r\n";
      },
      2s));
  const long after_reload = masterGets();
  for (int i = 0; i < 20; ++i) ASSERT_EQ(reader.call({"GET", "lifecycle:k"}), "$1\r\nv\r\n");
  EXPECT_EQ(masterGets(), after_reload + 20) << "reads did not move to the master";
  EXPECT_TRUE(proxy.running());
}

/* The limits and timeouts a reload changes apply to clients already
 * connected: each is checked against the behaviour it controls. */
TEST(Lifecycle, SighupAppliesLimitsAndTimeoutsToConnectedClients) {
  Lab lab;
  const std::string path = lab.dir() + "/limits.toml";
  std::ofstream(path) << "[routing]\nread_policy = \"master\"\n";
  auto args = lab.proxyArgs();
  args.insert(args.end(), {"--config", path});
  ProxyProcess proxy(lab.dir(), args);
  ASSERT_TRUE(proxy.waitUntilWritable()) << proxy.log();
  RespClient first(proxy.port());
  RespClient second(proxy.port());
  ASSERT_EQ(first.call({"SET", "limits:k", "v"}), "+OK\r\n");
  ASSERT_EQ(second.call({"PING"}), "+PONG\r\n");
  const std::size_t master = *lab.sentinelMaster();

  // Before: a stall of the master is waited out (5 s timeout).
  lab.connectNode(master)->call({"CLIENT", "PAUSE", "300", "ALL"});
  EXPECT_EQ(first.call({"GET", "limits:k"}), "$1\r\nv\r\n");

  std::ofstream(path) << "[proxy]\nmax_clients = 2\nmax_bulk_len = 1000\n"
                         "[backend]\nrequest_timeout_ms = 100\n"
                         "[routing]\nread_policy = \"master\"\n";
  proxy.signal(SIGHUP);
  ASSERT_TRUE(Lab::waitUntil(
      [&] {
        return proxy.log().find("reload: backend.request_timeout_ms: 5000 -> 100") !=
               std::string::npos;
      },
      5s))
      << proxy.log();
  EXPECT_EQ(proxy.countInLog("kept until a restart"), 0u) << proxy.log();

  // max_clients: the two connected clients stay, a third is refused.
  RespClient third(proxy.port());
  EXPECT_EQ(third.readReply().value_or("<closed>"), "-ERR max number of clients reached\r\n");
  EXPECT_EQ(first.call({"PING"}), "+PONG\r\n");

  // request_timeout_ms: the same stall now fails the request after 100 ms
  // (the stall stays below the lab's down-after, so Sentinel never fails
  // over).
  lab.connectNode(master)->call({"CLIENT", "PAUSE", "500", "ALL"});
  const auto asked = std::chrono::steady_clock::now();
  EXPECT_EQ(first.call({"GET", "limits:k"}),
            "-ERR backend did not answer within backend.request_timeout_ms; the outcome is "
            "unknown and the connection was replaced\r\n")
      << proxy.log();
  EXPECT_LT(std::chrono::steady_clock::now() - asked, 400ms);
  lab.connectNode(master)->call({"CLIENT", "UNPAUSE"});

  // max_bulk_len: a connected client's bulk over the new limit is refused.
  second.sendRaw("*3\r\n$3\r\nSET\r\n$8\r\nlimits:b\r\n$2000\r\n");
  EXPECT_EQ(second.readReply().value_or("<closed>"),
            "-ERR Protocol error: invalid bulk length\r\n");
  EXPECT_TRUE(proxy.running());
}

/* The replica checks run on the control thread with its own copy of the
 * config: a lower max_replica_lag_ms from a reload drops a replica that was
 * within the old limit. */
TEST(Lifecycle, SighupAppliesANewReplicaLagLimit) {
  Lab lab;
  const std::string path = lab.dir() + "/lag.toml";
  std::ofstream(path) << "[routing]\nmax_replica_lag_ms = 60000\n";
  auto args = lab.proxyArgs();
  args.insert(args.end(), {"--config", path});
  ProxyProcess proxy(lab.dir(), args);
  ASSERT_TRUE(proxy.waitUntilWritable()) << proxy.log();
  ASSERT_TRUE(proxy.waitForEligibleReplicas(2)) << proxy.log();
  const std::size_t master = *lab.sentinelMaster();
  const std::size_t paused = master == 1 ? 2 : 1;
  auto paused_node = lab.connectNode(paused);
  // Stops applying the replication stream, still answers (see Routing).
  ASSERT_EQ(paused_node->call({"CLIENT", "PAUSE", "10000", "WRITE"}), "+OK\r\n");
  RespClient writer(proxy.port());
  const std::string dropped =
      "address=127.0.0.1:" + std::to_string(lab.nodePort(paused)) + " reason=\"lags";
  for (int i = 0; i < 50; ++i) {
    writer.call({"INCR", "lag:counter"});
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(proxy.countInLog(dropped), 0u) << "dropped under the 60 s limit\n" << proxy.log();

  std::ofstream(path) << "[routing]\nmax_replica_lag_ms = 200\n";
  proxy.signal(SIGHUP);
  EXPECT_TRUE(Lab::waitUntil(
      [&] {
        writer.call({"INCR", "lag:counter"});
        return proxy.countInLog(dropped) > 0;
      },
      5s))
      << proxy.log();
  EXPECT_NE(proxy.log().find("reload: routing.max_replica_lag_ms: 60000 -> 200"), std::string::npos)
      << proxy.log();
  paused_node->call({"CLIENT", "UNPAUSE"});
}

/* A sentinel added to the file on reload is used at once: a proxy that
 * started with only an address nobody answers on finds the master after
 * the reload lists the lab's sentinels. */
TEST(Lifecycle, SighupAddsSentinelsFromTheFile) {
  Lab lab;
  const std::string path = lab.dir() + "/sentinels.toml";
  const auto unused = freePort();
  std::ofstream(path) << "[sentinel]\nmaster_name = \"app-cache\"\naddresses = [\"127.0.0.1:"
                      << unused << "\"]\n";
  ProxyProcess proxy(lab.dir(), {"--config", path});
  // Writes sent before the reload are held (failover.hold_ms) and go out
  // once the master is found, so the client waits longer than that.
  RespClient client(proxy.port(), 10s);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(httpGet(proxy.adminPort(), "/readyz").status, 503);

  std::string listed = "\"127.0.0.1:" + std::to_string(unused) + "\"";
  for (std::size_t i = 0; i < lab.options().sentinels; ++i) {
    listed += ", \"127.0.0.1:" + std::to_string(lab.sentinelPort(i)) + "\"";
  }
  std::ofstream(path) << "[sentinel]\nmaster_name = \"app-cache\"\naddresses = [" << listed
                      << "]\n";
  proxy.signal(SIGHUP);
  EXPECT_TRUE(Lab::waitUntil(
      [&] {
        return client.call({"SET", "sentinels:k", "v"}) == "+OK\r\n";
      },
      10s))
      << proxy.log();
  EXPECT_NE(proxy.log().find("reload: sentinel.addresses:"), std::string::npos) << proxy.log();
  EXPECT_EQ(httpGet(proxy.adminPort(), "/readyz").status, 200);
}

/* log.format = "json": every line the proxy writes is one JSON object
 * (checked with Python's json module). */
TEST(Lifecycle, JsonLogsAreOneObjectPerLine) {
  Lab lab;
  ProxyProcess proxy(lab.dir(), lab.proxyArgs("[log]\nformat = \"json\"\n"));
  ASSERT_TRUE(proxy.waitUntilWritable()) << proxy.log();
  RespClient client(proxy.port());
  EXPECT_EQ(client.call({"SET", "json:k", "v"}), "+OK\r\n");
  EXPECT_EQ(proxy.terminate(), 0);
  const std::string log = proxy.log();
  EXPECT_NE(log.find("\"message\":\"master changed group=app-cache old=none new=127.0.0.1:"),
            std::string::npos)
      << log;
  const std::string path = lab.dir() + "/json-log-copy.txt";
  std::ofstream(path) << log;
  const std::string check =
      "/usr/bin/python3 -c 'import json, sys\n"
      "lines = open(sys.argv[1]).read().splitlines()\n"
      "assert len(lines) > 5, lines\n"
      "for line in lines:\n"
      "    record = json.loads(line)\n"
      "    assert set(record) == {\"time\", \"level\", \"logger\", \"message\"}, record\n' '" +
      path + "'";
  EXPECT_EQ(std::system(check.c_str()), 0) << log;
}

}  // namespace
}  // namespace rhp::test
