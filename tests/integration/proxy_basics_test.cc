#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <thread>

#include "tests/support/lab.h"
#include "tests/support/proxy_process.h"
#include "tests/support/resp_client.h"

namespace rhp::test {
namespace {

/* One lab and one proxy for the whole suite: these tests do not fail over. */
class ProxyBasics : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Lab::Options options;
    options.nodes = 2;  // a master and a replica are enough here
    lab_ = std::make_unique<Lab>(options);
    // These tests read their own writes at once; replica reads are the
    // Routing suite's business.
    proxy_ = std::make_unique<ProxyProcess>(
        lab_->dir(), lab_->proxyArgs("[routing]\nread_policy = \"master\"\n"));
    ASSERT_TRUE(proxy_->waitUntilWritable()) << proxy_->log();
  }
  static void TearDownTestSuite() {
    if (proxy_) {
      EXPECT_EQ(proxy_->terminate(), 0) << "proxy did not exit cleanly on SIGTERM";
    }
    proxy_.reset();
    lab_.reset();
  }
  void TearDown() override {
    ASSERT_TRUE(proxy_->running()) << "the proxy died; log:\n" << proxy_->log();
  }

  static std::uint16_t masterPort() { return lab_->nodePort(*lab_->sentinelMaster()); }

  static std::unique_ptr<Lab> lab_;
  static std::unique_ptr<ProxyProcess> proxy_;
};

std::unique_ptr<Lab> ProxyBasics::lab_;
std::unique_ptr<ProxyProcess> ProxyBasics::proxy_;

TEST_F(ProxyBasics, SetThenGetRoundTripsThroughTheMaster) {
  RespClient client(proxy_->port());
  EXPECT_EQ(client.call({"SET", "basics:k", "hello"}), "+OK\r\n");
  EXPECT_EQ(client.call({"GET", "basics:k"}), "$5\r\nhello\r\n");
  RespClient direct(masterPort());
  EXPECT_EQ(direct.call({"GET", "basics:k"}), "$5\r\nhello\r\n");
}

TEST_F(ProxyBasics, AnswersTenThousandPipelinedCommandsInOrder) {
  RespClient client(proxy_->port());
  client.call({"DEL", "basics:counter"});
  std::string pipeline;
  for (int i = 0; i < 10000; ++i) {
    pipeline += RespClient::encode({"INCR", "basics:counter"});
    if (i % 1000 == 0) pipeline += "PING\r\n";  // local answers interleave in order
  }
  client.sendRaw(pipeline);
  for (int i = 1; i <= 10000; ++i) {
    ASSERT_EQ(client.readReply().value_or("timeout"), ":" + std::to_string(i) + "\r\n");
    if ((i - 1) % 1000 == 0) {
      ASSERT_EQ(client.readReply().value_or("timeout"), "+PONG\r\n");
    }
  }
}

TEST_F(ProxyBasics, PassesA64MiBValueBothWays) {
  std::string value(64 * 1024 * 1024, 'x');
  for (std::size_t i = 0; i < value.size(); i += 4096) value[i] = static_cast<char>('a' + i % 26);
  RespClient client(proxy_->port(), std::chrono::seconds(30));
  EXPECT_EQ(client.call({"SET", "basics:big", value}), "+OK\r\n");
  const std::string reply = client.call({"GET", "basics:big"});
  EXPECT_EQ(reply.size(), value.size() + 13);
  EXPECT_TRUE(RespClient::valueOf(reply) == value);
  EXPECT_EQ(client.call({"DEL", "basics:big"}), ":1\r\n");
}

TEST_F(ProxyBasics, ServesManyConcurrentClients) {
  constexpr int kClients = 64;
  constexpr int kRounds = 50;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      RespClient client(proxy_->port());
      for (int r = 0; r < kRounds; ++r) {
        const std::string key = "basics:c" + std::to_string(c);
        const std::string value = std::to_string(r);
        if (client.call({"SET", key, value}) != "+OK\r\n") ++wrong;
        if (RespClient::valueOf(client.call({"GET", key})) != value) ++wrong;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST_F(ProxyBasics, KeepsSelectPerClient) {
  RespClient one(proxy_->port());
  RespClient zero(proxy_->port());
  EXPECT_EQ(one.call({"SELECT", "1"}), "+OK\r\n");
  EXPECT_EQ(one.call({"SET", "basics:db", "in-one"}), "+OK\r\n");
  EXPECT_EQ(zero.call({"SET", "basics:db", "in-zero"}), "+OK\r\n");
  EXPECT_EQ(one.call({"GET", "basics:db"}), "$6\r\nin-one\r\n");
  EXPECT_EQ(zero.call({"GET", "basics:db"}), "$7\r\nin-zero\r\n");
  RespClient direct(masterPort());
  EXPECT_EQ(direct.call({"SELECT", "1"}), "+OK\r\n");
  EXPECT_EQ(direct.call({"GET", "basics:db"}), "$6\r\nin-one\r\n");
  EXPECT_EQ(one.call({"SELECT", "16"}), "-ERR DB index is out of range\r\n");
}

TEST_F(ProxyBasics, AcceptsInlineCommandsAsTypedInTelnet) {
  RespClient client(proxy_->port());
  client.sendRaw("PING\r\nSET basics:inline \"two words\"\r\nGET basics:inline\r\n");
  EXPECT_EQ(client.readReply().value_or(""), "+PONG\r\n");
  EXPECT_EQ(client.readReply().value_or(""), "+OK\r\n");
  EXPECT_EQ(client.readReply().value_or(""), "$9\r\ntwo words\r\n");
}

TEST_F(ProxyBasics, AnswersConnectionCommandsLocally) {
  RespClient client(proxy_->port());
  EXPECT_EQ(client.call({"ECHO", "hi"}), "$2\r\nhi\r\n");
  EXPECT_EQ(client.call({"HELLO", "4"}), "-NOPROTO unsupported protocol version\r\n");
  EXPECT_EQ(client.call({"HELLO", "3"}).rfind("%7\r\n", 0), 0u);
  EXPECT_EQ(client.call({"CLIENT", "GETNAME"}), "_\r\n");
  EXPECT_EQ(client.call({"HELLO", "2"}).rfind("*14\r\n", 0), 0u);
  EXPECT_EQ(client.call({"CLIENT", "GETNAME"}), "$-1\r\n");
  EXPECT_EQ(client.call({"CLIENT", "SETNAME", "tester"}), "+OK\r\n");
  EXPECT_EQ(client.call({"CLIENT", "GETNAME"}), "$6\r\ntester\r\n");
  EXPECT_EQ(client.call({"QUIT"}), "+OK\r\n");
  EXPECT_TRUE(client.waitForClose());
}

TEST_F(ProxyBasics, ForwardsUnknownCommandsAndRefusesTopologyChanges) {
  RespClient client(proxy_->port());
  EXPECT_EQ(client.call({"NOSUCHCOMMAND", "x"}).rfind("-ERR unknown command", 0), 0u);
  EXPECT_EQ(client.call({"REPLICAOF", "NO", "ONE"})
                .rfind("-ERR 'replicaof' is disabled by redis-ha-proxy", 0),
            0u);
  EXPECT_EQ(client.call({"GET"}), "-ERR wrong number of arguments for 'get' command\r\n");
  EXPECT_EQ(client.call({"PING"}), "+PONG\r\n");
}

TEST_F(ProxyBasics, MalformedInputClosesOnlyThatClient) {
  RespClient good(proxy_->port());
  good.sendRaw(RespClient::encode({"SET", "basics:iso", "kept"}));
  RespClient bad(proxy_->port());
  bad.sendRaw("*1\r\n$99999999999\r\n");
  EXPECT_EQ(bad.readReply().value_or(""), "-ERR Protocol error: invalid bulk length\r\n");
  EXPECT_TRUE(bad.waitForClose());
  RespClient garbage(proxy_->port());
  garbage.sendRaw("*2\r\n$3\r\nGET\r\n:1\r\n");
  EXPECT_EQ(garbage.readReply().value_or(""), "-ERR Protocol error: expected '$', got ':'\r\n");
  EXPECT_TRUE(garbage.waitForClose());
  EXPECT_EQ(good.readReply().value_or(""), "+OK\r\n");
  EXPECT_EQ(good.call({"GET", "basics:iso"}), "$4\r\nkept\r\n");
}

TEST_F(ProxyBasics, RepliesBeforeAProtocolErrorAreStillDelivered) {
  RespClient client(proxy_->port());
  client.sendRaw(RespClient::encode({"SET", "basics:before", "1"}) + "*x\r\n");
  EXPECT_EQ(client.readReply().value_or(""), "+OK\r\n");
  EXPECT_EQ(client.readReply().value_or(""), "-ERR Protocol error: invalid multibulk length\r\n");
  EXPECT_TRUE(client.waitForClose());
}

TEST_F(ProxyBasics, ClientsVanishingMidRequestDoNotDisturbOthers) {
  RespClient steady(proxy_->port());
  for (int i = 0; i < 20; ++i) {
    RespClient vanishing(proxy_->port());
    // Half a request, then gone; and a full pipeline whose replies nobody reads.
    vanishing.sendRaw("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\nabc");
    RespClient impatient(proxy_->port());
    std::string pipeline;
    for (int j = 0; j < 200; ++j) pipeline += RespClient::encode({"INCR", "basics:impatient"});
    impatient.sendRaw(pipeline);
  }
  EXPECT_EQ(steady.call({"SET", "basics:steady", "ok"}), "+OK\r\n");
  EXPECT_EQ(steady.call({"GET", "basics:steady"}), "$2\r\nok\r\n");
}

// The hiredis reader the proxy used to frame replies stopped at depth 9
// and dropped the shared link, failing every other client's requests on it.
TEST_F(ProxyBasics, RepliesOfAnyDepthAndWidthPassThroughAsRedisSendsThem) {
  RespClient client(proxy_->port());
  RespClient direct(masterPort());
  RespClient bystander(proxy_->port());
  const std::vector<std::vector<std::string>> requests = {
      {"EVAL", "return {{{{{{{{{1}}}}}}}}}", "0"},
      {"EVAL", "local t = 1 for i = 1, 1000 do t = {t} end return t", "0"},
      {"EVAL", "local t = {} for i = 1, 100000 do t[i] = i end return t", "0"},
      {"COMMAND", "DOCS"},
      {"COMMAND", "INFO", "get", "set", "client"},
  };
  for (const auto& request : requests) {
    // The bystander's requests travel with the deep reply on the shared link.
    bystander.sendRaw(RespClient::encode({"SET", "basics:bystander", request[1]}) +
                      RespClient::encode({"GET", "basics:bystander"}));
    const std::string through = client.call(request);
    const std::string expected = direct.call(request);
    if (request[0] == "COMMAND") {
      // Redis lists commands and subcommands in its dicts' order, which a
      // rehash between two calls can change: compare what is listed.
      EXPECT_EQ(through.size(), expected.size()) << request[1];
      EXPECT_EQ(through.substr(0, 8), expected.substr(0, 8)) << request[1];
    } else {
      EXPECT_EQ(through, expected) << request[1];
    }
    EXPECT_GT(through.size(), 20u);
    EXPECT_EQ(bystander.readReply().value_or(""), "+OK\r\n");
    EXPECT_EQ(bystander.readReply().value_or(""),
              "$" + std::to_string(request[1].size()) + "\r\n" + request[1] + "\r\n");
  }
  EXPECT_EQ(proxy_->countInLog("unparseable reply"), 0u);
}

// A script's READONLY is its answer: the master is still master (the
// rediscovery it triggers says so), so the client gets it at once instead
// of the request going round three times with a rediscovery each.
TEST_F(ProxyBasics, AReadonlyErrorFromAScriptIsTheAnswer) {
  RespClient client(proxy_->port());
  const std::size_t before = proxy_->countInLog("master answered READONLY");
  for (int i = 0; i < 5; ++i) {
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(client.call({"EVAL", "return redis.error_reply('READONLY from a script')", "0"}),
              "-READONLY from a script\r\n");
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  }
  EXPECT_EQ(client.call({"SET", "basics:after-readonly", "1"}), "+OK\r\n");
  // One rediscovery per READONLY, not one per resend.
  EXPECT_LE(proxy_->countInLog("master answered READONLY") - before, 5u);
}

TEST_F(ProxyBasics, BackendDyingMidReplyFailsOnlyThatRequest) {
  // redis-server drops a client whose output buffer passes a hard limit; a
  // 4 MiB reply against a 1 MiB limit makes the master close the proxy's
  // connection in the middle of the reply.
  const std::string value(4 * 1024 * 1024, 'm');
  RespClient client(proxy_->port());
  ASSERT_EQ(client.call({"SET", "basics:midreply", value}), "+OK\r\n");
  RespClient direct(masterPort());
  ASSERT_EQ(direct.call({"CONFIG", "SET", "client-output-buffer-limit", "normal 1mb 1mb 0"}),
            "+OK\r\n");
  const std::string reply = client.call({"GET", "basics:midreply"});
  EXPECT_EQ(direct.call({"CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0"}),
            "+OK\r\n");
  EXPECT_EQ(reply.rfind("-ERR connection to the master was lost", 0), 0u) << reply.substr(0, 80);
  // The same client connection carries on once the proxy has reconnected.
  EXPECT_TRUE(Lab::waitUntil(
      [&] {
        return client.call({"SET", "basics:after", "1"}) == "+OK\r\n";
      },
      std::chrono::seconds(5)));
  EXPECT_EQ(client.call({"DEL", "basics:midreply"}), ":1\r\n");
}

}  // namespace
}  // namespace rhp::test
