#include "proxy/user_connections.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "proxy/proxy_log.h"
#include "tests/support/silent_after_auth_node.h"

namespace rhp::proxy {
namespace {

using namespace std::chrono_literals;

/* The node pool, faked at the set's seam: whether the fence lets waiting
 * requests go, and what came back. */
struct FakeOwner final : UserConnectionsOwner {
  bool keepsWaiting(const UserConnections&) const override { return false; }
  void scheduleUserReconnect() override {}
  bool mayStillSend(const UserConnections&) override { return open; }
  void returnRequests(UserConnections&, std::vector<RequestPtr> requests) override {
    for (auto& request : requests) returned.push_back(std::move(request));
  }
  void onUserRefused(UserConnections&, std::string_view) override {}
  void onUserConnected(UserConnections&) override { connected = true; }
  void onUserDisconnected(UserConnections&) override {}
  void onUserRejected(RequestPtr, std::string_view) override {}

  bool open = true;
  bool connected = false;
  std::vector<RequestPtr> returned;
};

/* A request waits for the user's connection; once the node accepted the
 * login, it is written only if the master's failover fence is still open
 * (it was placed before the connection was up). Closed: it goes back to
 * the worker, which holds it, and nothing is written. */
void sendWhileConnecting(bool fence_open, std::size_t expect_written, std::size_t expect_returned) {
  if (!spdlog::get(kProxyLogger)) spdlog::create<spdlog::sinks::null_sink_st>(kProxyLogger);
  test::SilentAfterAuthNode node;
  uv_loop_t loop{};
  uv_loop_init(&loop);
  config::Config::Backend settings;
  BackendTls tls;
  FlushList<BackendConnection> flush;
  EventClock clock;
  FakeOwner owner;
  owner.open = fence_open;
  auto login = std::make_shared<const BackendLogin>(BackendLogin{"u", "p", {}});
  {
    UserConnections set(&loop, config::Address{"127.0.0.1", node.port()}, settings, tls, login,
                        commands::Resp::V2, owner, flush, clock);
    RequestPtr request = newRequest();
    request->payload = "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
    request->login = login;
    set.send(std::move(request), uv_now(&loop));
    EXPECT_EQ(set.outstanding(), 1u);  // waiting: the connection is not up yet
    const auto end = std::chrono::steady_clock::now() + 2s;
    while (!owner.connected && std::chrono::steady_clock::now() < end) {
      uv_run(&loop, UV_RUN_NOWAIT);
      flush.drain([](BackendConnection* connection) { connection->flush(); });
      std::this_thread::sleep_for(1ms);
    }
    ASSERT_TRUE(owner.connected);
    EXPECT_EQ(set.outstanding(), expect_written);
    EXPECT_EQ(owner.returned.size(), expect_returned);
    owner.returned.clear();
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
}

TEST(UserConnections, WhatWaitedGoesOutOnceConnectedWhileTheFenceIsOpen) {
  sendWhileConnecting(true, 1, 0);
}

TEST(UserConnections, WhatWaitedGoesBackIfTheFenceClosedWhileItConnected) {
  sendWhileConnecting(false, 0, 1);
}

}  // namespace
}  // namespace rhp::proxy
