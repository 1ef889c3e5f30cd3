#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "tests/support/resp_client.h"
#include "tests/support/shared_lab_test.h"

namespace rhp::test {
namespace {

using namespace std::chrono_literals;

/* RESP3 pushes through the proxy (issue 13): client tracking on the
 * client's own connection, and subscribers that run other commands. */
class Resp3 : public SharedLabTest {
 protected:
  static std::string invalidate(const std::string& key) {
    return ">2\r\n$10\r\ninvalidate\r\n*1\r\n$" + std::to_string(key.size()) + "\r\n" + key +
           "\r\n";
  }
  static constexpr std::string_view kInvalidateAll = ">2\r\n$10\r\ninvalidate\r\n_\r\n";

  /* The master's CLIENT LIST line of the one connection with tracking on
   * (flag 't'), or "". */
  static std::string trackingConnection() {
    RespClient direct(lab_->nodePort(master()));
    std::istringstream lines(RespClient::valueOf(direct.call({"CLIENT", "LIST"})));
    std::string line;
    while (std::getline(lines, line)) {
      const auto flags = line.find(" flags=");
      if (flags == std::string::npos) continue;
      const std::string value = line.substr(flags + 7, line.find(' ', flags + 7) - flags - 7);
      if (value.find('t') != std::string::npos) return line;
    }
    return "";
  }
};

/* The connection that tracked the client's reads dies (here CLIENT KILL;
 * a failover does the same): the client is told to drop its whole cache,
 * and tracking is on again on the next connection, so a later write is
 * invalidated as before. The client used its own connection for a
 * transaction first, so tracking is turned on over an existing one. */
TEST_F(Resp3, TrackingComesBackWhenItsConnectionIsLost) {
  RespClient client(proxy_->port());
  ASSERT_TRUE(client.call({"HELLO", "3"}).starts_with("%7\r\n"));
  ASSERT_EQ(client.call({"MULTI"}), "+OK\r\n");
  ASSERT_EQ(client.call({"EXEC"}), "*0\r\n");
  ASSERT_EQ(client.call({"CLIENT", "TRACKING", "on"}), "+OK\r\n");
  RespClient writer(proxy_->port());
  ASSERT_EQ(writer.call({"SET", "r3:tracked", "1"}), "+OK\r\n");
  EXPECT_EQ(client.call({"GET", "r3:tracked"}), "$1\r\n1\r\n");
  const std::string tracking = trackingConnection();
  ASSERT_NE(tracking, "");
  const std::string id = tracking.substr(3, tracking.find(' ') - 3);  // "id=N ..."
  RespClient direct(lab_->nodePort(master()));
  ASSERT_EQ(direct.call({"CLIENT", "KILL", "ID", id}), ":1\r\n");
  EXPECT_EQ(client.readReply().value_or("(nothing)"), kInvalidateAll);
  // Tracking is back before the client's next read.
  EXPECT_TRUE(Lab::waitUntil([] { return !trackingConnection().empty(); }, 5s));
  EXPECT_EQ(client.call({"GET", "r3:tracked"}), "$1\r\n1\r\n");
  ASSERT_EQ(writer.call({"SET", "r3:tracked", "2"}), "+OK\r\n");
  EXPECT_EQ(client.readReply().value_or("(nothing)"), invalidate("r3:tracked"));
}

/* RESET goes to the tracking connection in its turn and Redis ends tracking
 * there: the client, RESP2 again, gets no push afterwards. HELLO 2 while
 * tracking would leave pushes with nowhere to go, and is refused. */
TEST_F(Resp3, ResetEndsTrackingAndNoPushFollows) {
  RespClient client(proxy_->port(), 500ms);
  ASSERT_TRUE(client.call({"HELLO", "3"}).starts_with("%7\r\n"));
  ASSERT_EQ(client.call({"CLIENT", "TRACKING", "on"}), "+OK\r\n");
  EXPECT_EQ(client.call({"HELLO", "2"}).rfind("-ERR redis-ha-proxy does not switch", 0), 0u);
  EXPECT_EQ(client.call({"GET", "r3:reset"}), "_\r\n");
  EXPECT_EQ(client.call({"RESET"}), "+RESET\r\n");
  RespClient writer(proxy_->port());
  ASSERT_EQ(writer.call({"SET", "r3:reset", "1"}), "+OK\r\n");
  EXPECT_EQ(client.readReply(), std::nullopt);  // nothing within 500 ms
  EXPECT_EQ(client.call({"GET", "r3:reset"}), "$1\r\n1\r\n");
  EXPECT_EQ(trackingConnection(), "");
}

/* A RESP3 subscriber blocked in BLPOP still gets its messages at once, as
 * from Redis: a push waits for no reply. */
TEST_F(Resp3, ASubscriberBlockedInBlpopStillGetsMessages) {
  RespClient client(proxy_->port());
  ASSERT_TRUE(client.call({"HELLO", "3"}).starts_with("%7\r\n"));
  EXPECT_EQ(client.call({"SUBSCRIBE", "r3:channel"}),
            ">3\r\n$9\r\nsubscribe\r\n$10\r\nr3:channel\r\n:1\r\n");
  client.sendRaw(RespClient::encode({"BLPOP", "r3:nothing", "3"}));
  RespClient publisher(proxy_->port());
  ASSERT_TRUE(Lab::waitUntil(
      [&] {
        return publisher.call({"PUBLISH", "r3:channel", "hi"}) == ":1\r\n";
      },
      2s));
  const auto sent = std::chrono::steady_clock::now();
  EXPECT_EQ(client.readReply().value_or("(nothing)"),
            ">3\r\n$7\r\nmessage\r\n$10\r\nr3:channel\r\n$2\r\nhi\r\n");
  EXPECT_LT(std::chrono::steady_clock::now() - sent, 1s);        // not after BLPOP's 3 s
  EXPECT_EQ(client.readReply().value_or("(nothing)"), "_\r\n");  // BLPOP timed out
}

/* RESET pipelined behind a read and a SUBSCRIBE ends the subscription the
 * SUBSCRIBE made, as on one Redis connection: no message reaches the
 * client afterwards. */
TEST_F(Resp3, ResetInSubscribedModeWaitsForTheRequestsBeforeIt) {
  RespClient client(proxy_->port(), 500ms);
  ASSERT_TRUE(client.call({"HELLO", "3"}).starts_with("%7\r\n"));
  client.sendRaw(RespClient::encode({"GET", "r3:before"}) +
                 RespClient::encode({"SUBSCRIBE", "r3:later"}) + RespClient::encode({"RESET"}));
  EXPECT_EQ(client.readReply().value_or("(nothing)"), "_\r\n");
  EXPECT_EQ(client.readReply().value_or("(nothing)"),
            ">3\r\n$9\r\nsubscribe\r\n$8\r\nr3:later\r\n:1\r\n");
  EXPECT_EQ(client.readReply().value_or("(nothing)"), "+RESET\r\n");
  RespClient publisher(proxy_->port());
  EXPECT_EQ(publisher.call({"PUBLISH", "r3:later", "m"}), ":0\r\n");
  EXPECT_EQ(client.readReply(), std::nullopt);
  EXPECT_EQ(client.call({"PING"}), "+PONG\r\n");
}

}  // namespace
}  // namespace rhp::test
