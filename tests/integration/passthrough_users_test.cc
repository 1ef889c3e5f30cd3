#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/http_client.h"
#include "tests/support/lab.h"
#include "tests/support/proxy_process.h"
#include "tests/support/resp_client.h"
#include "tests/support/write_workload.h"

namespace rhp::test {
namespace {

using namespace std::chrono_literals;

/* proxy.auth = "passthrough": the users exist on the nodes only (ACL
 * SETUSER on each: Redis does not replicate ACLs), and the proxy logs in as
 * each client's user. `reader` reads app:* keys and listens on app:*
 * channels, and may not run ECHO, SELECT, CLIENT or ACL WHOAMI, which the
 * proxy answers itself; `writer` may do anything. */
struct NodeUser {
  std::string name;
  std::string password;
  std::string rules;
};
const std::vector<NodeUser> kNodeUsers = {
    {"reader", "rpw", "on >rpw ~app:* resetchannels &app:* +@read +ping +subscribe +unsubscribe"},
    {"writer", "wpw", "on >wpw ~* &* +@all"},
};

/* What each user sends, {} being its side's own key part: reads and writes
 * in and out of app:*, the commands the proxy answers, pub/sub in and out
 * of the user's channels, a transaction, scripts, and AUTH that fails. */
const std::vector<std::vector<std::string>> kNodeUserScript = {
    {"PING"},
    {"ECHO", "hi"},
    {"SET", "app:{}k", "v"},
    {"GET", "app:{}k"},
    {"GET", "other:{}k"},
    {"SET", "other:{}k", "v"},
    {"INCR", "app:{}n"},
    {"MGET", "app:{}k", "other:{}k"},
    {"SELECT", "0"},
    {"ACL", "WHOAMI"},
    {"CLIENT", "GETNAME"},
    {"CONFIG", "GET", "maxmemory"},
    {"PUBLISH", "app:chan", "x"},
    {"SUBSCRIBE", "app:chan"},
    {"UNSUBSCRIBE"},
    {"MULTI"},
    {"SET", "app:{}k", "v2"},
    {"GET", "app:{}k"},
    {"EXEC"},
    {"GET", "app:{}k"},
    {"EVAL", "return redis.call('GET', KEYS[1])", "1", "app:{}k"},
    {"EVAL", "return redis.call('GET', KEYS[1])", "1", "other:{}k"},
    {"SCRIPT", "LOAD", "return 1"},
    {"SCRIPT", "KILL"},
    {"WAIT", "0", "100"},
    {"AUTH", "nobody", "x"},
    {"AUTH", "reader", "wrong"},
    {"TYPE", "app:{}k"},
    {"ACL", "WHOAMI"},
    {"BLPOP", "app:{}list", "0.01"},
    // Both become the reader: the writer's own connection (its MULTI's,
    // its BLPOP's) must now run as the reader too.
    {"AUTH", "reader", "rpw"},
    {"MULTI"},
    {"SET", "app:{}k", "v3"},
    {"EXEC"},
    {"BLPOP", "app:{}list", "0.01"},
    {"GET", "app:{}k"},
};

std::vector<std::string> withPart(std::vector<std::string> args, const std::string& part) {
  for (auto& arg : args) {
    if (const auto at = arg.find("{}"); at != std::string::npos) arg.replace(at, 2, part);
  }
  return args;
}

void defineUsers(Lab& lab) {
  for (std::size_t node = 0; node < lab.nodeCount(); ++node) {
    auto admin = lab.connectNode(node);
    for (const NodeUser& user : kNodeUsers) {
      std::vector<std::string> setuser{"ACL", "SETUSER", user.name};
      std::istringstream words(user.rules);
      for (std::string word; words >> word;) setuser.push_back(word);
      ASSERT_EQ(admin->call(setuser), "+OK\r\n") << user.rules;
    }
  }
}

struct UserSides {
  std::unique_ptr<RespClient> direct;
  std::unique_ptr<RespClient> proxied;
};

/* Each user's script, step by step and user by user (one worker: both
 * users' requests share its pools), against the master directly and
 * through the proxy: the same bytes. */
void compareScript(std::vector<UserSides>& sides, const std::string& round) {
  for (std::size_t step = 0; step < kNodeUserScript.size(); ++step) {
    for (std::size_t u = 0; u < sides.size(); ++u) {
      const std::string& name = kNodeUsers[u].name;
      const std::string direct =
          sides[u].direct->call(withPart(kNodeUserScript[step], "d" + round + name));
      const std::string proxied =
          sides[u].proxied->call(withPart(kNodeUserScript[step], "p" + round + name));
      EXPECT_EQ(proxied, direct) << name << ": " << kNodeUserScript[step][0] << " (step " << step
                                 << ", round " << round << ")";
    }
  }
}

/* Two users defined on the nodes get, through one proxy, the replies Redis
 * gives them directly, byte for byte, before and after a failover; the
 * nodes see the proxy's connections logged in as each user; a client that
 * has not logged in is the nodes' `default`; and the counts are per user. */
TEST(PassthroughUsers, TwoNodeUsersGetExactlyTheRightsRedisGivesThemAcrossAFailover) {
  Lab lab;
  defineUsers(lab);
  ProxyProcess proxy(lab.dir(), lab.proxyArgs("[proxy]\nauth = \"passthrough\"\nworkers = 1\n"));
  ASSERT_TRUE(proxy.waitUntilWritable()) << proxy.log();
  ASSERT_TRUE(proxy.waitForEligibleReplicas(2)) << proxy.log();

  // The lab's nodes leave `default` nopass: a client that sends no AUTH is
  // `default` through the proxy too (on connections logged in as default,
  // not the proxy's own), and a wrong AUTH leaves it so.
  RespClient stranger(proxy.port());
  EXPECT_EQ(stranger.call({"SET", "app:stranger", "1"}), "+OK\r\n") << proxy.log();
  EXPECT_EQ(stranger.call({"AUTH", "reader", "nope"}),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_EQ(stranger.call({"ACL", "WHOAMI"}), "$7\r\ndefault\r\n");
  EXPECT_NE(stranger.call({"PROXY", "INFO"}).find("auth:passthrough\r\n"), std::string::npos);

  auto connectSides = [&] {
    std::vector<UserSides> sides;
    const std::size_t master = *lab.sentinelMaster();
    for (const NodeUser& user : kNodeUsers) {
      UserSides side{lab.connectNode(master), std::make_unique<RespClient>(proxy.port())};
      EXPECT_EQ(side.direct->call({"AUTH", user.name, user.password}), "+OK\r\n");
      EXPECT_EQ(side.proxied->call({"AUTH", user.name, user.password}), "+OK\r\n");
      sides.push_back(std::move(side));
    }
    return sides;
  };
  std::vector<UserSides> sides = connectSides();
  compareScript(sides, "1:");

  // Redis checked those: the proxy's own connections are not the users'.
  const std::string clients = lab.connectNode(*lab.sentinelMaster())->call({"CLIENT", "LIST"});
  EXPECT_NE(clients.find("user=reader"), std::string::npos) << clients;
  EXPECT_NE(clients.find("user=writer"), std::string::npos) << clients;
  // The login checks' connections are closed once they answered.
  EXPECT_TRUE(Lab::waitUntil(
      [&] {
        return lab.connectNode(*lab.sentinelMaster())
                   ->call({"CLIENT", "LIST"})
                   .find("name=redis-ha-proxy-login-check") == std::string::npos;
      },
      2s));
  EXPECT_EQ(clients.find("rpw"), std::string::npos);

  // A planned failover under the writer's writes: its connections follow
  // the master, no acknowledged write is lost and none fails; the same
  // clients (and new ones, logged in again) get the same answers after.
  WriteWorkload writes(proxy.port(), 2, "app:failover", nullptr, {"writer", "wpw"});
  ASSERT_TRUE(Lab::waitUntil([&] { return writes.acknowledged() > 50; }, 5s));
  const std::size_t old_master = *lab.sentinelMaster();
  ASSERT_EQ(lab.sentinelFailover(), "+OK\r\n");
  ASSERT_TRUE(Lab::waitUntil(
      [&] { return proxy.log().find("master changed") != proxy.log().rfind("master changed"); },
      30s))
      << proxy.log();
  const long at_switch = writes.acknowledged();
  ASSERT_TRUE(Lab::waitUntil([&] { return writes.acknowledged() > at_switch + 50; }, 10s));
  // Checked once the old master replicates from the new one (until then
  // the sentinels may still name it).
  ASSERT_TRUE(Lab::waitUntil(
      [&] {
        const auto master = lab.sentinelMaster();
        return master && *master != old_master && lab.role(old_master) == "slave";
      },
      30s));
  writes.stop();
  {
    auto master = lab.connectNode(*lab.sentinelMaster());
    const WriteWorkload::Outcome outcome = writes.check(*master);
    EXPECT_EQ(outcome.lost_keys, 0) << outcome.lost_key_samples.front();
    EXPECT_EQ(outcome.lost_counter_increments, 0);
    EXPECT_TRUE(outcome.errors.empty()) << outcome.errors.front();
    std::cout << "passthrough planned failover: acknowledged=" << outcome.acknowledged
              << " errors=" << outcome.errors.size()
              << " longest_gap_ms=" << outcome.longest_gap.count() << "\n";
  }
  // The script ended with both clients logged in as the reader.
  std::vector<UserSides> after = connectSides();
  ASSERT_TRUE(Lab::waitUntil(
      [&] {
        return after[1].proxied->call({"SET", "app:after", "1"}) == "+OK\r\n";
      },
      15s))
      << proxy.log();
  EXPECT_EQ(after[0].proxied->call({"SET", "app:after", "2"}),
            "-NOPERM this user has no permissions to run the 'set' command\r\n");
  EXPECT_EQ(after[0].proxied->call({"ACL", "WHOAMI"}),
            "-NOPERM this user has no permissions to run the 'acl|whoami' command\r\n");
  compareScript(after, "2:");

  const std::string metrics = httpGet(proxy.adminPort(), "/metrics").body;
  auto sample = [&](const std::string& name, const std::string& user) {
    const std::string key = name + "{user=\"" + user + "\"} ";
    const auto at = metrics.find(key);
    return at == std::string::npos
               ? -1
               : std::stol(metrics.substr(at + key.size(), metrics.find('\n', at) - at));
  };
  EXPECT_GT(sample("redis_ha_proxy_user_noperm_total", "reader"), 20) << metrics;
  // The users' connections count with the pools' own (one per node here).
  long connections = 0;
  for (auto at = metrics.find("\nredis_ha_proxy_backend_connections{"); at != std::string::npos;
       at = metrics.find("\nredis_ha_proxy_backend_connections{", at + 1)) {
    const auto value = metrics.find("} ", at) + 2;
    connections += std::stol(metrics.substr(value, metrics.find('\n', value) - value));
  }
  EXPECT_GE(connections, 3 + 2) << metrics;
  EXPECT_GE(sample("redis_ha_proxy_user_requests_total", "writer"),
            static_cast<long>(2 * kNodeUserScript.size()))
      << metrics;
}

/* node-redis 6 and ioredis 6 logging in with their own username and
 * password options: what each library hands the application as `reader`
 * and `writer` (values and NOPERM errors), and what a wrong password gives,
 * is the same through the proxy as from Redis. */
TEST(PassthroughUsers, NodeLibrariesLoggingInAsUsersSeeWhatRedisGivesThem) {
  Lab lab;
  defineUsers(lab);
  ProxyProcess proxy(lab.dir(), lab.proxyArgs("[proxy]\nauth = \"passthrough\"\n"));
  ASSERT_TRUE(proxy.waitUntilWritable()) << proxy.log();
  ASSERT_TRUE(proxy.waitForEligibleReplicas(2)) << proxy.log();
  auto run = [&](const std::string& library, std::uint16_t port, const std::string& prefix) {
    const std::string output = lab.dir() + "/" + library + "-" + prefix + ".out";
    const std::string command = std::string("timeout 60 node ") + RHP_SOURCE_DIR +
                                "/tests/compat/node/acl_users.js " + library + " " +
                                std::to_string(port) + " " + prefix + " > " + output + " 2>&1";
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    std::ifstream file(output);
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
  };
  for (const std::string library : {"node-redis", "ioredis"}) {
    const std::string direct = run(library, lab.nodePort(*lab.sentinelMaster()), "d");
    const std::string proxied = run(library, proxy.port(), "p");
    EXPECT_NE(direct.find("NOPERM"), std::string::npos) << direct;
    // ioredis reports a refused login as "Connection is closed.".
    if (library == "node-redis") {
      EXPECT_NE(direct.find("WRONGPASS"), std::string::npos) << direct;
    }
    EXPECT_EQ(proxied, direct) << library << "\nproxy log:\n" << proxy.log();
  }
}

/* A user the replicas do not have: the master accepts the login, a replica
 * refuses the connection, which is logged once with what to do, and the
 * reads it would have served get the node's own error. */
TEST(PassthroughUsers, ANodeWithoutTheUserIsLoggedAndItsErrorIsTheAnswer) {
  Lab lab;
  ProxyProcess proxy(lab.dir(), lab.proxyArgs("[proxy]\nauth = \"passthrough\"\nworkers = 1\n"
                                              "[routing]\nread_policy = \"replica\"\n"));
  ASSERT_TRUE(proxy.waitUntilWritable()) << proxy.log();
  ASSERT_TRUE(proxy.waitForEligibleReplicas(2)) << proxy.log();
  ASSERT_EQ(lab.connectNode(*lab.sentinelMaster())
                ->call({"ACL", "SETUSER", "lonely", "on", ">lpw", "~*", "+@all"}),
            "+OK\r\n");
  RespClient client(proxy.port());
  ASSERT_EQ(client.call({"AUTH", "lonely", "lpw"}), "+OK\r\n");
  EXPECT_EQ(client.call({"SET", "lonely:k", "v"}), "+OK\r\n");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(client.call({"GET", "lonely:k"}),
              "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  }
  EXPECT_TRUE(Lab::waitUntil(
      [&] {
        return proxy.countInLog("node refused a passthrough user's login") >= 1 &&
               proxy.countInLog("user=\"lonely\"") >= 1;
      },
      5s))
      << proxy.log();
  // Once per node: three reads (round robin over two replicas) log two lines.
  EXPECT_LE(proxy.countInLog("node refused a passthrough user's login"), 2u) << proxy.log();
}

}  // namespace
}  // namespace rhp::test
