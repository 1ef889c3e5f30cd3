#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/support/lab.h"
#include "tests/support/proxy_process.h"
#include "tests/support/resp_client.h"

namespace rhp::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

/* proxy.auth_timeout_ms (connections that never log in cannot hold
 * max_clients slots) and proxy.timeout (Redis's `timeout`: idle clients are
 * closed, subscribers and clients waiting for a reply are not). */
TEST(ClientTimeouts, CloseStrangersAndIdleClientsButNotSubscribersOrBlockedOnes) {
  Lab lab(Lab::singleNode());
  ProxyProcess proxy(lab.dir(), lab.proxyArgs("[proxy]\npassword = \"pw\"\n"
                                              "auth_timeout_ms = 300\ntimeout = 2\n"));
  ASSERT_TRUE(proxy.waitUntilWritable("pw")) << proxy.log();

  const auto start = Clock::now();
  RespClient stranger(proxy.port(), 5000ms);
  RespClient idle(proxy.port(), 5000ms);
  RespClient subscriber(proxy.port(), 5000ms);
  RespClient blocked(proxy.port(), 5000ms);
  RespClient busy(proxy.port(), 5000ms);
  for (RespClient* client : {&idle, &subscriber, &blocked, &busy}) {
    ASSERT_EQ(client->call({"AUTH", "pw"}), "+OK\r\n");
  }
  ASSERT_EQ(subscriber.call({"SUBSCRIBE", "timeouts:ch"}),
            "*3\r\n$9\r\nsubscribe\r\n$11\r\ntimeouts:ch\r\n:1\r\n");
  blocked.sendRaw(RespClient::encode({"BLPOP", "timeouts:list", "3"}));

  // The stranger goes at the first sweep after 300 ms: within about 1.3 s.
  EXPECT_TRUE(stranger.waitForClose());
  EXPECT_LT(Clock::now() - start, 2500ms);
  // A client that keeps talking is not idle.
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(busy.call({"PING"}), "+PONG\r\n") << i;
    std::this_thread::sleep_for(250ms);
  }
  // The idle one was closed after 2 s of silence (and a sweep). With
  // timeout = 1 the busy client, silent until the stranger's sweep (up to
  // 1.3 s), was sometimes closed too under ASan.
  EXPECT_TRUE(idle.waitForClose());
  // The blocked client gets its answer when BLPOP's own timeout ends.
  EXPECT_EQ(blocked.readReply().value_or("(closed)"), "*-1\r\n");
  EXPECT_GE(Clock::now() - start, 2900ms);
  // The subscriber is still there.
  EXPECT_EQ(subscriber.call({"PING"}), "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
}

}  // namespace
}  // namespace rhp::test
