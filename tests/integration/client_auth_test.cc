#include <gtest/gtest.h>

#include <chrono>

#include "tests/support/lab.h"
#include "tests/support/proxy_process.h"
#include "tests/support/resp_client.h"

namespace rhp::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

/* Issue 12 §5: failed AUTH attempts are slowed down per connection (100 ms,
 * 200, 400 ... 2 s, one after another), answers stay in order, and a client
 * with the right password is not slowed. */
TEST(ClientAuth, WrongPasswordsAreAnsweredSlowlyAndInOrder) {
  Lab lab(Lab::singleNode());
  ProxyProcess proxy(lab.dir(), lab.proxyArgs("[proxy]\npassword = \"pw\"\n"));
  ASSERT_TRUE(proxy.waitUntilWritable("pw")) << proxy.log();

  const std::string wrong = "-WRONGPASS invalid username-password pair or user is disabled.\r\n";
  RespClient guesser(proxy.port());
  const auto start = Clock::now();
  guesser.sendRaw(RespClient::encode({"AUTH", "a"}) + RespClient::encode({"AUTH", "b"}) +
                  RespClient::encode({"AUTH", "default", "c"}) + RespClient::encode({"PING"}) +
                  RespClient::encode({"AUTH", "pw"}) + RespClient::encode({"GET", "rhp:probe"}));
  EXPECT_EQ(guesser.readReply().value_or("(none)"), wrong);
  EXPECT_GE(Clock::now() - start, 100ms);
  EXPECT_EQ(guesser.readReply().value_or("(none)"), wrong);
  EXPECT_EQ(guesser.readReply().value_or("(none)"), wrong);
  // 100 + 200 + 400 ms, one after the other.
  EXPECT_GE(Clock::now() - start, 700ms);
  EXPECT_EQ(guesser.readReply().value_or("(none)"), "-NOAUTH Authentication required.\r\n");
  EXPECT_EQ(guesser.readReply().value_or("(none)"), "+OK\r\n");
  EXPECT_EQ(guesser.readReply().value_or("(none)"), "$1\r\n1\r\n");

  // Another connection is not slowed by this one's failures; its own first
  // failure waits 100 ms again.
  RespClient other(proxy.port());
  EXPECT_EQ(other.call({"AUTH", "pw"}), "+OK\r\n");
  const auto before_failure = Clock::now();
  EXPECT_EQ(other.call({"AUTH", "nope"}), wrong);
  EXPECT_GE(Clock::now() - before_failure, 100ms);
  // A client that closes while its answer waits leaves nothing behind.
  {
    RespClient leaver(proxy.port());
    leaver.sendRaw(RespClient::encode({"AUTH", "x"}));
  }
  EXPECT_EQ(other.call({"GET", "rhp:probe"}), "$1\r\n1\r\n");
  EXPECT_TRUE(proxy.running());
}

}  // namespace
}  // namespace rhp::test
