#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "tests/support/http_client.h"
#include "tests/support/lab.h"
#include "tests/support/proxy_process.h"
#include "tests/support/resp_client.h"

namespace rhp::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

/* Issue 12 §4: 240 idle admin connections used to hold the endpoint (and
 * file descriptors) forever. Now a new connection closes the oldest idle
 * one past admin.max_connections, and a slow sender is closed at
 * admin.request_timeout_ms. */
TEST(AdminLimits, IdleAndSlowConnectionsCannotLockOutAHealthCheck) {
  Lab lab(Lab::singleNode());
  ProxyProcess proxy(lab.dir(),
                     lab.proxyArgs("[admin]\nmax_connections = 4\nrequest_timeout_ms = 1000\n"));
  // Ten connections that send half a request and wait.
  std::vector<std::unique_ptr<RespClient>> idle;
  for (int i = 0; i < 10; ++i) {
    idle.push_back(std::make_unique<RespClient>(proxy.adminPort(), 3000ms));
    idle.back()->sendRaw("GET /metrics HTTP/1.1\r\n");
  }
  const auto start = Clock::now();
  const HttpResponse health = httpGet(proxy.adminPort(), "/healthz");
  EXPECT_EQ(health.status, 200) << health.raw;
  // The six oldest made room for the four after them, and those three made
  // room for the health check.
  for (int i = 0; i < 7; ++i) EXPECT_TRUE(idle[i]->waitForClose()) << i;
  // The rest go at the request timeout (1 s, swept every 100 ms).
  for (int i = 7; i < 10; ++i) EXPECT_TRUE(idle[i]->waitForClose()) << i;
  EXPECT_GE(Clock::now() - start, 900ms);
  EXPECT_EQ(proxy.countInLog("admin endpoint: 4 connections open (admin.max_connections)"), 1u)
      << proxy.log();

  // A byte every 100 ms, forever: closed at the timeout all the same.
  RespClient slow(proxy.adminPort(), 100ms);
  const auto slow_start = Clock::now();
  const std::string request = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
  bool closed = false;
  for (std::size_t sent = 0; sent < request.size() && !closed; ++sent) {
    slow.sendRaw(request.substr(sent, 1));
    closed = slow.waitForClose();  // false after 100 ms of silence
  }
  EXPECT_TRUE(closed);
  EXPECT_GE(Clock::now() - slow_start, 900ms);
  EXPECT_LT(Clock::now() - slow_start, 2000ms);
}

TEST(AdminLimits, ATokenIsRequiredWhenSet) {
  Lab lab(Lab::singleNode());
  ProxyProcess proxy(lab.dir(), lab.proxyArgs("[admin]\ntoken = \"t0ken\"\n"));
  auto get = [&](const std::string& authorization) {
    return httpExchange(proxy.adminPort(),
                        "GET /metrics HTTP/1.1\r\nHost: x\r\n" + authorization + "\r\n");
  };
  const HttpResponse none = get("");
  EXPECT_EQ(none.status, 401) << none.raw;
  EXPECT_NE(none.raw.find("WWW-Authenticate: Bearer\r\n"), std::string::npos) << none.raw;
  EXPECT_EQ(none.body.find("redis_ha_proxy"), std::string::npos);
  EXPECT_EQ(get("Authorization: Bearer t0kem\r\n").status, 401);
  EXPECT_EQ(get("Authorization: Bearer t0ken2\r\n").status, 401);
  EXPECT_EQ(get("Authorization: Basic t0ken\r\n").status, 401);
  EXPECT_EQ(httpGet(proxy.adminPort(), "/healthz").status, 401);
  const HttpResponse good = get("authorization:  Bearer t0ken \r\n");
  EXPECT_EQ(good.status, 200) << good.raw;
  EXPECT_NE(good.body.find("redis_ha_proxy_workers "), std::string::npos);
}

/* Out of file descriptors: said once, the proxy keeps serving the clients
 * it has, and accepts again once descriptors are free. */
TEST(AdminLimits, RunningOutOfFileDescriptorsIsLoggedOnceAndRecovers) {
  Lab lab(Lab::singleNode());
  ProxyProcess proxy(lab.dir(), lab.proxyArgs("[proxy]\nworkers = 1\n"),
                     {"prlimit", "--nofile=48:48"});
  ASSERT_TRUE(proxy.waitUntilWritable()) << proxy.log();
  std::vector<std::unique_ptr<RespClient>> clients;
  int refused = 0;
  for (int i = 0; i < 60; ++i) {
    auto client = std::make_unique<RespClient>(proxy.port(), 2000ms);
    if (client->call({"PING"}) == "+PONG\r\n") {
      clients.push_back(std::move(client));
    } else {
      ++refused;
    }
  }
  EXPECT_GT(refused, 10);
  EXPECT_FALSE(clients.empty());
  // The watch looks once a second; an episode is said once however long.
  EXPECT_TRUE(Lab::waitUntil([&] { return proxy.countInLog("out of file descriptors") > 0; }, 3s));
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(proxy.countInLog("out of file descriptors"), 1u) << proxy.log();
  EXPECT_EQ(clients.front()->call({"SET", "fd:k", "1"}), "+OK\r\n");
  clients.clear();
  EXPECT_TRUE(Lab::waitUntil(
      [&] {
        RespClient client(proxy.port(), 1000ms);
        return client.call({"GET", "fd:k"}) == "$1\r\n1\r\n";
      },
      5s));
  EXPECT_TRUE(
      Lab::waitUntil([&] { return proxy.countInLog("file descriptors available again") == 1; }, 3s))
      << proxy.log();
  EXPECT_TRUE(proxy.running());
}

}  // namespace
}  // namespace rhp::test
