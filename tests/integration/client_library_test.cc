#include <gtest/gtest.h>

#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "tests/support/lab.h"
#include "tests/support/proxy_process.h"
#include "tests/support/resp_client.h"

namespace rhp::test {
namespace {

std::string readAll(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

/* Debian's python3-redis, used the way applications use it, through the
 * proxy with the default read policy (reads on replicas). */
TEST(ClientLibrary, RedisPyWorksThroughTheProxy) {
  Lab lab;
  ProxyProcess proxy(lab.dir(), lab.proxyArgs());
  ASSERT_TRUE(proxy.waitUntilWritable()) << proxy.log();
  const std::string output = lab.dir() + "/redis-py.out";
  const std::string command = std::string("/usr/bin/python3 ") + RHP_SOURCE_DIR +
                              "/tests/compat/redis_py_compat.py " + std::to_string(proxy.port()) +
                              " > " + output + " 2>&1";
  const int status = std::system(command.c_str());
  EXPECT_EQ(status, 0) << readAll(output) << "\nproxy log:\n" << proxy.log();
  EXPECT_NE(readAll(output).find("all checks passed"), std::string::npos) << readAll(output);
  EXPECT_TRUE(proxy.running());
}

/* Runs tests/compat/node/scenarios.js with `library` against `port`; its
 * stdout, one JSON line per scenario. */
std::string runNodeScenarios(const Lab& lab, const std::string& library, std::uint16_t port,
                             const std::string& label) {
  const std::string output = lab.dir() + "/" + library + "-" + label + ".out";
  const std::string command = std::string("timeout 120 node ") + RHP_SOURCE_DIR +
                              "/tests/compat/node/scenarios.js " + library + " " +
                              std::to_string(port) + " compat > " + output + " 2>&1";
  const int status = std::system(command.c_str());
  EXPECT_EQ(status, 0) << library << " " << label << ":\n" << readAll(output);
  return readAll(output);
}

/* node-redis 6 and ioredis 6 from npm (tests/compat/node/package-lock.json)
 * with their default options: both negotiate RESP3 with HELLO 3. Each runs
 * the same scenarios against the master directly and through the proxy
 * (pipelines, RESP3 reply types, transactions, WATCH, BLPOP, pub/sub with
 * commands on the subscribed connection, SCAN, scripts with
 * redis.setresp(3), SELECT, an 8 MB value, binary keys), and the values
 * each library hands the application, types included, must be the same. */
TEST(ClientLibrary, Resp3LibrariesSeeWhatRedisGivesThem) {
  Lab lab;
  ProxyProcess proxy(lab.dir(), lab.proxyArgs());
  ASSERT_TRUE(proxy.waitUntilWritable()) << proxy.log();
  ASSERT_TRUE(proxy.waitForEligibleReplicas(2)) << proxy.log();
  const std::uint16_t master_port = lab.nodePort(*lab.sentinelMaster());
  for (const std::string library : {"node-redis", "ioredis"}) {
    const std::string direct = runNodeScenarios(lab, library, master_port, "direct");
    const std::string proxied = runNodeScenarios(lab, library, proxy.port(), "proxy");
    EXPECT_NE(direct.find("\"scenario\":\"binaryKeys\",\"ok\":true"), std::string::npos) << direct;
    EXPECT_NE(direct.find("\"proto\":3"), std::string::npos) << direct;
    EXPECT_EQ(proxied, direct) << library << " through the proxy differs from Redis\nproxy log:\n"
                               << proxy.log();
  }
  EXPECT_TRUE(proxy.running());
}

/* Client-side caching across a failover (issue 13): node-redis 6 caches a
 * key it read through the proxy, the master fails over, and the key is
 * written on the new master, which never saw the client read it. The
 * proxy tells the client to drop its cache (an invalidate push with a null
 * key list) when the connection that tracked its reads goes, and turns
 * tracking on again on the new master: the cached GET returns the new
 * value, and later writes invalidate it as before. */
TEST(ClientLibrary, ClientSideCachingServesNothingStaleAfterAFailover) {
  using namespace std::chrono_literals;
  Lab lab;
  ProxyProcess proxy(lab.dir(), lab.proxyArgs());
  ASSERT_TRUE(proxy.waitUntilWritable()) << proxy.log();
  const std::string ready = lab.dir() + "/cached.ready";
  const std::string output = lab.dir() + "/caching-failover.out";
  const std::string command =
      std::string("timeout 90 node ") + RHP_SOURCE_DIR + "/tests/compat/node/caching_failover.js " +
      std::to_string(proxy.port()) + " csc:key " + ready + " > " + output + " 2>&1";
  FILE* node = popen(command.c_str(), "w");
  ASSERT_NE(node, nullptr);
  const bool cached = Lab::waitUntil([&] { return !readAll(ready).empty(); }, 30s);
  if (!cached) pclose(node);
  ASSERT_TRUE(cached) << readAll(output);
  const std::size_t old_master = *lab.sentinelMaster();
  ASSERT_EQ(lab.sentinelFailover(), "+OK\r\n");
  const auto promoted = lab.waitForNewMaster(old_master, 30s);
  ASSERT_TRUE(promoted.has_value());
  RespClient writer(proxy.port());
  RespClient direct(lab.nodePort(*promoted));
  // Through the proxy, once it writes to the new master.
  EXPECT_TRUE(Lab::waitUntil(
      [&] {
        return writer.call({"SET", "csc:key", "v2"}) == "+OK\r\n" &&
               direct.call({"GET", "csc:key"}) == "$2\r\nv2\r\n";
      },
      30s));
  std::fputs("go\n", node);
  std::fflush(node);
  const int status = pclose(node);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << readAll(output) << "\nproxy log:\n"
                                                             << proxy.log();
  EXPECT_NE(readAll(output).find("\"afterFailover\":\"v2\""), std::string::npos) << readAll(output);
  EXPECT_TRUE(proxy.running());
}

/* A writer loop of each RESP3 library across a SENTINEL FAILOVER (issue
 * 13): no error reaches the application, and the new master holds exactly
 * the writes that were acknowledged, each once, in order. */
TEST(ClientLibrary, Resp3WritersSeeNoErrorAndLoseNothingInAFailover) {
  using namespace std::chrono_literals;
  Lab lab;
  ProxyProcess proxy(lab.dir(), lab.proxyArgs());
  ASSERT_TRUE(proxy.waitUntilWritable()) << proxy.log();
  struct Writer {
    std::string library;
    std::string ready;
    std::string output;
    FILE* pipe = nullptr;
  };
  std::vector<Writer> writers;
  for (const std::string library : {"node-redis", "ioredis"}) {
    Writer writer{library, lab.dir() + "/" + library + ".ready",
                  lab.dir() + "/" + library + "-writer.out"};
    const std::string command = std::string("timeout 90 node ") + RHP_SOURCE_DIR +
                                "/tests/compat/node/writer_failover.js " + library + " " +
                                std::to_string(proxy.port()) + " writer:" + library + " " +
                                writer.ready + " > " + writer.output + " 2>&1";
    writer.pipe = popen(command.c_str(), "w");
    ASSERT_NE(writer.pipe, nullptr);
    writers.push_back(writer);
  }
  auto stopAll = [&] {
    for (auto& writer : writers) {
      if (writer.pipe == nullptr) continue;
      std::fputs("stop\n", writer.pipe);
      std::fflush(writer.pipe);
      const int status = pclose(writer.pipe);
      writer.pipe = nullptr;
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << readAll(writer.output);
    }
  };
  for (const auto& writer : writers) {
    if (!Lab::waitUntil([&] { return !readAll(writer.ready).empty(); }, 30s)) {
      stopAll();
      FAIL() << writer.library << " did not start: " << readAll(writer.output);
    }
  }
  const std::size_t old_master = *lab.sentinelMaster();
  ASSERT_EQ(lab.sentinelFailover(), "+OK\r\n");
  const auto promoted = lab.waitForNewMaster(old_master, 30s);
  ASSERT_TRUE(promoted.has_value());
  std::this_thread::sleep_for(1500ms);  // writes on the new master too
  stopAll();
  RespClient direct(lab.nodePort(*promoted));
  for (const auto& writer : writers) {
    SCOPED_TRACE(writer.library);
    const std::string out = readAll(writer.output);
    EXPECT_NE(out.find("\"errorCount\":0,"), std::string::npos) << out;
    EXPECT_NE(out.find("\"stale\":0}"), std::string::npos) << out;
    const std::size_t at = out.find("\"acked\":");
    ASSERT_NE(at, std::string::npos) << out;
    const long acked = std::atol(out.c_str() + at + 8);
    EXPECT_GT(acked, 20);
    std::string expected = "*" + std::to_string(acked) + "\r\n";
    for (long i = 0; i < acked; ++i) {
      const std::string value = std::to_string(i);
      expected += "$" + std::to_string(value.size()) + "\r\n" + value + "\r\n";
    }
    EXPECT_EQ(direct.call({"LRANGE", "writer:" + writer.library, "0", "-1"}), expected);
  }
  EXPECT_TRUE(proxy.running());
}

}  // namespace
}  // namespace rhp::test
