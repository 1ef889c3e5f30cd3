#include "proxy/login_probe.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "proxy/proxy_log.h"
#include "tests/support/silent_after_auth_node.h"

namespace rhp::proxy {
namespace {

using namespace std::chrono_literals;

struct Answer final : ReplySink {
  void complete(Slot&, std::string_view reply) override { got = std::string(reply); }
  void sent(Slot&, const config::Address*) override {}
  router::ReadFloor* readFloor() override { return nullptr; }
  std::optional<std::string> got;
};

/* The client's AUTH waits on the probe, with its socket unread: a probe
 * must end within the timeouts whatever the node does. Its connection's
 * checkTimeout() is never called (NodePool::checkTimeouts only reaps done
 * probes), and the link's connect timeout stops once the AUTH was
 * answered: a node silent after that left the client waiting for ever.
 * NodePool::checkTimeouts now calls LoginProbe::checkTimeout. */
TEST(LoginProbe, ANodeSilentAfterTheLoginStillGetsTheClientAnAnswer) {
  if (!spdlog::get(kProxyLogger)) spdlog::create<spdlog::sinks::null_sink_st>(kProxyLogger);
  test::SilentAfterAuthNode node;
  uv_loop_t loop{};
  uv_loop_init(&loop);
  config::Config::Backend settings;
  settings.connect_timeout = 200ms;
  settings.request_timeout = 300ms;
  BackendTls tls;
  FlushList<BackendConnection> flush;
  EventClock clock;
  Answer answer;
  Slot slot;
  RequestPtr request = newRequest();
  request->reply_to = {&answer, &slot};
  auto login = std::make_shared<BackendLogin>(BackendLogin{"u", "p", {}});
  {
    LoginProbe probe(&loop, config::Address{"127.0.0.1", node.port()}, settings, tls, login,
                     std::move(request), flush, clock);
    const auto end = std::chrono::steady_clock::now() + 2s;
    while (!answer.got && std::chrono::steady_clock::now() < end) {
      uv_run(&loop, UV_RUN_NOWAIT);
      flush.drain([](BackendConnection* connection) { connection->flush(); });
      probe.checkTimeout(uv_now(&loop));  // as NodePool::checkTimeouts, each tick
      std::this_thread::sleep_for(1ms);
    }
    EXPECT_TRUE(answer.got.has_value()) << "no answer 2 s after the login was accepted";
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
}

}  // namespace
}  // namespace rhp::proxy
