#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/lab.h"
#include "tests/support/proxy_process.h"
#include "tests/support/resp_client.h"

namespace rhp::test {
namespace {

using namespace std::chrono_literals;

/* proxy.auth = "passthrough" at its edges: every way found (a review of
 * the first version) for a client's request to run on a node as a user
 * other than the one it logged in as, or out of order, or never answered.
 * One lab and proxy for the PassthroughEdges suite (one ctest entry). */

void setUser(Lab& lab, const std::vector<std::string>& setuser) {
  for (std::size_t node = 0; node < lab.nodeCount(); ++node) {
    std::vector<std::string> command{"ACL", "SETUSER"};
    command.insert(command.end(), setuser.begin(), setuser.end());
    ASSERT_EQ(lab.connectNode(node)->call(command), "+OK\r\n");
  }
}

const char* kNoPermSet = "-NOPERM this user has no permissions to run the 'set' command\r\n";

struct PassthroughEdges : ::testing::Test {
  static void SetUpTestSuite() {
    lab_ = std::make_unique<Lab>();
    setUser(*lab_, {"alice", "on", ">apw", "~*", "&*", "+@all"});
    setUser(*lab_,
            {"bob", "on", ">bpw", "~*", "&*", "+@all", "-set", "-script|kill", "-script|load"});
    proxy_ = std::make_unique<ProxyProcess>(
        lab_->dir(), lab_->proxyArgs("[proxy]\nauth = \"passthrough\"\nworkers = 1\n"));
    ASSERT_TRUE(proxy_->waitUntilWritable()) << proxy_->log();
    ASSERT_TRUE(proxy_->waitForEligibleReplicas(2)) << proxy_->log();
  }
  static void TearDownTestSuite() {
    proxy_.reset();
    lab_.reset();
  }
  void TearDown() override { ASSERT_TRUE(proxy->running()) << proxy->log(); }

  static inline std::unique_ptr<Lab> lab_;
  static inline std::unique_ptr<ProxyProcess> proxy_;
  Lab& lab = *lab_;
  ProxyProcess* proxy = proxy_.get();
};

/* redis-server 7.0 logs in as HELLO meets AUTH, so a bad SETNAME after it
 * fails the HELLO with the client logged in. The proxy must then carry the
 * login too: once, the session was authenticated without it, and its
 * requests went over the proxy's own connections, as backend.username. */
TEST_F(PassthroughEdges, AFailedHelloAuthLogsInAsRedisDoes) {
  RespClient direct_check(lab.nodePort(*lab.sentinelMaster()));
  EXPECT_EQ(direct_check.call({"HELLO", "2", "AUTH", "bob", "bpw", "SETNAME", "a b"}),
            "-ERR Client names cannot contain spaces, newlines or special characters.\r\n");
  RespClient client(proxy->port());
  EXPECT_EQ(client.call({"HELLO", "2", "AUTH", "bob", "bpw", "SETNAME", "a b"}),
            "-ERR Client names cannot contain spaces, newlines or special characters.\r\n");
  // Redis 7.0 logged in as it met AUTH: the client is bob, who may not SET
  // at all (not backend.username, who may).
  EXPECT_EQ(client.call({"SET", "review:hello", "v"}),
            direct_check.call({"SET", "review:hello", "v"}));
  EXPECT_EQ(lab.connectNode(*lab.sentinelMaster())->call({"EXISTS", "review:hello"}), ":0\r\n");
}

/* A session's dedicated connection keeps the login it was opened with: after
 * AUTH as another user, WATCH/MULTI/blocking commands still run as the old
 * one. */
TEST_F(PassthroughEdges, TheDedicatedLaneFollowsAReAuth) {
  RespClient client(proxy->port());
  ASSERT_EQ(client.call({"AUTH", "alice", "apw"}), "+OK\r\n");
  ASSERT_EQ(client.call({"WATCH", "review:k"}), "+OK\r\n");  // opens the lane as alice
  ASSERT_EQ(client.call({"UNWATCH"}), "+OK\r\n");
  ASSERT_EQ(client.call({"AUTH", "bob", "bpw"}), "+OK\r\n");
  EXPECT_EQ(client.call({"SET", "review:k", "shared"}), kNoPermSet);
  ASSERT_EQ(client.call({"WATCH", "review:k"}), "+OK\r\n");
  EXPECT_EQ(client.call({"SET", "review:k", "v"}), kNoPermSet);
  EXPECT_EQ(lab.connectNode(*lab.sentinelMaster())->call({"EXISTS", "review:k"}), ":0\r\n");
}

/* SCRIPT KILL goes past everything on a connection of its own, logged in
 * as the client's user: Redis checks the right to kill. */
TEST_F(PassthroughEdges, ScriptKillRunsAsTheClientsUser) {
  RespClient client(proxy->port());
  ASSERT_EQ(client.call({"AUTH", "bob", "bpw"}), "+OK\r\n");
  EXPECT_EQ(client.call({"SCRIPT", "KILL"}),
            "-NOPERM this user has no permissions to run the 'script|kill' command\r\n");
}

/* SCRIPT LOAD's copies to the replicas run as the client's user too: a
 * user that may not load a script loads it nowhere. */
TEST_F(PassthroughEdges, ScriptLoadCopiesRunAsTheClientsUser) {
  RespClient client(proxy->port());
  ASSERT_EQ(client.call({"AUTH", "bob", "bpw"}), "+OK\r\n");
  const std::string script = "return 'review'";
  EXPECT_EQ(client.call({"SCRIPT", "LOAD", script}),
            "-NOPERM this user has no permissions to run the 'script|load' command\r\n");
  const std::size_t master = *lab.sentinelMaster();
  const std::string sha = RespClient::valueOf(
      lab.connectNode(master)->call({"EVAL", "return redis.sha1hex(ARGV[1])", "0", script}));
  ASSERT_EQ(sha.size(), 40u);
  std::this_thread::sleep_for(300ms);
  for (std::size_t node = 0; node < lab.nodeCount(); ++node) {
    EXPECT_EQ(lab.connectNode(node)->call({"SCRIPT", "EXISTS", sha}), "*1\r\n:0\r\n")
        << "node " << node << (node == master ? " (master)" : " (replica)");
  }
}

/* A RESET on the dedicated connection is followed there by an AUTH as the
 * connection's login; when the node refuses it (alice's password changed
 * on the nodes), what the client pipelined behind the RESET (an AUTH as
 * bob, from the login cache, so answered at once, and a WATCH and a SET)
 * must still not run as anyone who may SET. */
TEST_F(PassthroughEdges, WhatFollowsAResetNeverRunsAsDefault) {
  RespClient other(proxy->port());
  ASSERT_EQ(other.call({"AUTH", "bob", "bpw"}), "+OK\r\n");  // bob's login is cached
  RespClient client(proxy->port());
  ASSERT_EQ(client.call({"AUTH", "alice", "apw"}), "+OK\r\n");
  ASSERT_EQ(client.call({"WATCH", "review:r"}), "+OK\r\n");  // the lane, as alice
  setUser(lab, {"alice", "resetpass", ">apw2"});             // logged-in connections stay
  client.sendRaw(RespClient::encode({"RESET"}) + RespClient::encode({"AUTH", "bob", "bpw"}) +
                 RespClient::encode({"WATCH", "review:r"}) +
                 RespClient::encode({"SET", "review:r", "v"}));
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(client.readReply().has_value()) << i;
  EXPECT_EQ(lab.connectNode(*lab.sentinelMaster())->call({"EXISTS", "review:r"}), ":0\r\n");
  setUser(lab, {"alice", "resetpass", ">apw"});  // for the suite's next tests
}

/* The requests a client sent before an AUTH as another user travel on the
 * old user's connection, those after it on the new one's: the session
 * waits for the first before it sends the next, so a GET behind a SET
 * never overtakes it. */
TEST_F(PassthroughEdges, RequestsAroundAReAuthKeepTheirOrder) {
  setUser(lab, {"carol", "on", ">cpw", "~*", "&*", "+@all"});
  RespClient other(proxy->port());
  ASSERT_EQ(other.call({"AUTH", "carol", "cpw"}), "+OK\r\n");
  ASSERT_EQ(other.call({"GET", "review:unrelated"}), "$-1\r\n");  // carol's connection is up
  RespClient client(proxy->port());
  ASSERT_EQ(client.call({"AUTH", "alice", "apw"}), "+OK\r\n");
  client.sendRaw(RespClient::encode({"SET", "review:o", "1"}) +
                 RespClient::encode({"AUTH", "carol", "cpw"}) +
                 RespClient::encode({"GET", "review:o"}));
  EXPECT_EQ(client.readReply(), "+OK\r\n");
  EXPECT_EQ(client.readReply(), "+OK\r\n");
  EXPECT_EQ(client.readReply(), "$1\r\n1\r\n");
}

/* Redis answers AUTH <password> with an error when `default` has no
 * password (nopass), though a login as default with any password would
 * pass: the proxy answers the same. */
TEST_F(PassthroughEdges, AuthWithOnlyAPasswordAnswersAsRedis) {
  RespClient direct(lab.nodePort(*lab.sentinelMaster()));
  const std::string redis = direct.call({"AUTH", "anything"});
  RespClient client(proxy->port());
  EXPECT_EQ(client.call({"AUTH", "anything"}), redis);
}

/* A user with two passwords (one being rotated out): clients of each share
 * the user's connection, and the proxy puts no AUTH between their requests
 * (the rights are the user's, whichever password). */
TEST_F(PassthroughEdges, TwoPasswordsOfOneUserShareItsConnectionWithoutAnAuthEach) {
  setUser(lab, {"rot", "on", ">p1", ">p2", "~*", "&*", "+@all"});
  RespClient a(proxy->port());
  RespClient b(proxy->port());
  ASSERT_EQ(a.call({"AUTH", "rot", "p1"}), "+OK\r\n");
  ASSERT_EQ(b.call({"AUTH", "rot", "p2"}), "+OK\r\n");
  ASSERT_EQ(a.call({"SET", "review:rot:a", "0"}), "+OK\r\n");  // the connection is up
  const std::size_t master = *lab.sentinelMaster();
  const long before = lab.commandCalls(master, "auth");
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(a.call({"SET", "review:rot:a", std::to_string(i)}), "+OK\r\n");
    ASSERT_EQ(b.call({"SET", "review:rot:b", std::to_string(i)}), "+OK\r\n");
  }
  EXPECT_LE(lab.commandCalls(master, "auth") - before, 2);
}

/* Revocation, as the README says it: ACL DELUSER on the nodes closes their
 * connections of the user; the proxy's log in again, are refused (logged),
 * and the user's requests get the node's error; a new AUTH is refused once
 * proxy.auth_cache_ms (300 ms here) has passed. */
TEST(PassthroughChurn, ARemovedUserIsRefusedByTheNodesAndAfterTheCacheByTheProxy) {
  Lab lab;
  setUser(lab, {"gone", "on", ">gpw", "~*", "&*", "+@all"});
  ProxyProcess proxy(lab.dir(), lab.proxyArgs("[proxy]\nauth = \"passthrough\"\nworkers = 1\n"
                                              "auth_cache_ms = 300\n"));
  ASSERT_TRUE(proxy.waitUntilWritable()) << proxy.log();
  RespClient client(proxy.port());
  ASSERT_EQ(client.call({"AUTH", "gone", "gpw"}), "+OK\r\n");
  ASSERT_EQ(client.call({"SET", "review:gone", "1"}), "+OK\r\n");
  for (std::size_t node = 0; node < lab.nodeCount(); ++node) {
    ASSERT_EQ(lab.connectNode(node)->call({"ACL", "DELUSER", "gone"}), ":1\r\n");
  }
  const std::string refused = "-WRONGPASS invalid username-password pair or user is disabled.\r\n";
  EXPECT_TRUE(Lab::waitUntil(
      [&] {
        return client.call({"SET", "review:gone", "2"}) == refused;
      },
      5s))
      << proxy.log();
  EXPECT_EQ(lab.connectNode(*lab.sentinelMaster())->call({"GET", "review:gone"}), "$1\r\n1\r\n");
  EXPECT_TRUE(Lab::waitUntil(
      [&] { return proxy.countInLog("node refused a passthrough user's login") > 0; }, 5s))
      << proxy.log();
  std::this_thread::sleep_for(400ms);
  RespClient again(proxy.port());
  EXPECT_EQ(again.call({"AUTH", "gone", "gpw"}), refused);
}

/* backend.max_users = 1 and a short idle timeout: users take turns on
 * one worker, so their connections are evicted and expire all the time,
 * while requests wait for them. Every request gets one answer, and each
 * runs as its own user. (Run against the Asan build for the lifetimes.) */
TEST(PassthroughChurn, UsersEvictedAndExpiringStillGetOneAnswerEach) {
  Lab lab;
  setUser(lab, {"u1", "on", ">p1", "~*", "&*", "+@all"});
  setUser(lab, {"u2", "on", ">p2", "~*", "&*", "+@all", "-get"});
  ProxyProcess proxy(lab.dir(),
                     lab.proxyArgs("[proxy]\nauth = \"passthrough\"\nworkers = 1\n"
                                   "[backend]\nmax_users = 1\nuser_idle_timeout_ms = 20\n"));
  ASSERT_TRUE(proxy.waitUntilWritable("any: default is nopass")) << proxy.log();
  std::vector<std::unique_ptr<RespClient>> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(std::make_unique<RespClient>(proxy.port()));
    const std::string user = i % 2 == 0 ? "u1" : "u2";
    ASSERT_EQ(clients.back()->call({"AUTH", user, i % 2 == 0 ? "p1" : "p2"}), "+OK\r\n");
  }
  std::size_t ok = 0;
  std::size_t too_many = 0;
  for (int round = 0; round < 60; ++round) {
    for (auto& client : clients) {
      std::string pipeline;
      for (int k = 0; k < 6; ++k) pipeline += RespClient::encode({"GET", "review:churn"});
      client->sendRaw(pipeline);
    }
    for (std::size_t c = 0; c < clients.size(); ++c) {
      for (int k = 0; k < 6; ++k) {
        const auto reply = clients[c]->readReply();
        ASSERT_TRUE(reply.has_value()) << "round " << round << "\n" << proxy.log();
        if (reply->starts_with("-ERR proxy: backend.max_users")) {
          ++too_many;
        } else {
          EXPECT_EQ(*reply,
                    c % 2 == 0
                        ? "$-1\r\n"
                        : "-NOPERM this user has no permissions to run the 'get' command\r\n")
              << round;
          ++ok;
        }
      }
    }
    if (round % 10 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(60));
  }
  std::printf("ok=%zu too_many=%zu\n", ok, too_many);
  EXPECT_GT(ok, 0u);
  EXPECT_TRUE(proxy.running()) << proxy.log();
}

/* Clients that leave while their AUTH is checked, and a failover while
 * users' requests wait for their connections and logins are checked: the
 * proxy lives on, and every request still asked gets one answer. (Run
 * against the Asan build.) */
TEST(PassthroughChurn, ClientsLeavingDuringTheirLoginAndAFailover) {
  Lab lab;
  setUser(lab, {"u1", "on", ">p1", "~*", "&*", "+@all"});
  ProxyProcess proxy(lab.dir(), lab.proxyArgs("[proxy]\nauth = \"passthrough\"\nworkers = 1\n"
                                              "auth_cache_ms = 0\n"
                                              "[backend]\nuser_idle_timeout_ms = 30\n"));
  ASSERT_TRUE(proxy.waitUntilWritable("any: default is nopass")) << proxy.log();
  for (int i = 0; i < 30; ++i) {
    RespClient leaving(proxy.port());
    leaving.sendRaw(RespClient::encode({"AUTH", "u1", "p1"}) +
                    RespClient::encode({"GET", "review:x"}));
    leaving.close();
  }
  std::vector<std::unique_ptr<RespClient>> clients;
  for (int i = 0; i < 6; ++i) {
    clients.push_back(std::make_unique<RespClient>(proxy.port()));
    ASSERT_EQ(clients.back()->call({"AUTH", "u1", "p1"}), "+OK\r\n");
  }
  ASSERT_EQ(lab.sentinelFailover(), "+OK\r\n");
  const auto end = std::chrono::steady_clock::now() + 8s;
  int rounds = 0;
  while (std::chrono::steady_clock::now() < end) {
    for (auto& client : clients) {
      client->sendRaw(RespClient::encode({"AUTH", "u1", "p1"}) +
                      RespClient::encode({"GET", "review:x"}) +
                      RespClient::encode({"SET", "review:y", "1"}));
    }
    for (auto& client : clients) {
      for (int k = 0; k < 3; ++k) {
        ASSERT_TRUE(client->readReply().has_value()) << "round " << rounds << "\n" << proxy.log();
      }
    }
    ++rounds;
    std::this_thread::sleep_for(40ms);  // past the idle timeout now and then
  }
  std::printf("rounds=%d\n", rounds);
  EXPECT_TRUE(proxy.running()) << proxy.log();
  RespClient after(proxy.port());
  EXPECT_EQ(after.call({"AUTH", "u1", "p1"}), "+OK\r\n");
}

}  // namespace
}  // namespace rhp::test
