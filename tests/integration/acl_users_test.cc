#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/http_client.h"
#include "tests/support/lab.h"
#include "tests/support/proxy_process.h"
#include "tests/support/resp_client.h"

namespace rhp::test {
namespace {

using namespace std::chrono_literals;

/* Two users, defined alike on redis-server (ACL SETUSER) and in the
 * proxy's proxy.users (the proxy enforces them itself: its connections to
 * the node stay the default user's). */
const std::vector<std::pair<std::string, std::string>> kUsers = {
    {"reader", "user reader on >rpw ~* +@read +ping -@dangerous"},
    {"writer", "user writer on >wpw ~* &* +@all -@dangerous"},
};

/* What each user sends, with {} the side's own key prefix: allowed and
 * refused commands, a subcommand, a transaction with a refused command in
 * it, and the commands the proxy answers itself (PING, SELECT, ACL WHOAMI,
 * CLIENT GETNAME). */
const std::vector<std::vector<std::string>> kScript = {
    {"PING"},
    {"ECHO", "hi"},
    {"SET", "{}k", "v"},
    {"GET", "{}k"},
    {"INCR", "{}n"},
    {"HGETALL", "{}h"},
    {"KEYS", "{}*"},
    {"SELECT", "1"},
    {"SELECT", "0"},
    {"ACL", "WHOAMI"},
    {"CLIENT", "GETNAME"},
    {"CONFIG", "GET", "maxmemory"},
    {"PUBLISH", "acl:channel", "x"},
    {"SUBSCRIBE", "acl:channel"},
    {"UNSUBSCRIBE"},
    {"MULTI"},
    {"SET", "{}k", "v2"},
    {"FLUSHALL"},
    {"EXEC"},
    {"GET", "{}k"},
    {"AUTH", "nobody", "x"},
    {"TYPE", "{}k"},
};

std::vector<std::string> keyed(std::vector<std::string> args, const std::string& prefix) {
  for (auto& arg : args) {
    if (const auto at = arg.find("{}"); at != std::string::npos) arg.replace(at, 2, prefix);
  }
  return args;
}

/* Each user gets exactly the replies Redis gives it, byte for byte, with
 * both users' clients interleaved on the proxy's shared connections; a
 * reload that drops a user closes its clients. */
TEST(AclUsers, TwoUsersGetExactlyTheRightsRedisGivesThemDirectly) {
  Lab lab(Lab::singleNode());
  std::string toml = "[proxy]\nusers = [";
  for (const auto& [name, line] : kUsers) toml += "\"" + line + "\", ";
  toml += "]\n";
  const auto args = lab.proxyArgs(toml);
  ProxyProcess proxy(lab.dir(), args);
  ASSERT_TRUE(proxy.waitUntilWritable()) << proxy.log();
  const std::size_t master = *lab.sentinelMaster();
  {
    auto admin = lab.connectNode(master);
    for (const auto& [name, line] : kUsers) {
      std::istringstream words(line);
      std::vector<std::string> setuser{"ACL", "SETUSER"};
      std::string word;
      words >> word;  // "user"
      while (words >> word) setuser.push_back(word);
      ASSERT_EQ(admin->call(setuser), "+OK\r\n") << line;
    }
  }
  struct Side {
    std::unique_ptr<RespClient> direct;
    std::unique_ptr<RespClient> proxied;
  };
  std::vector<Side> sides;
  for (const auto& [name, line] : kUsers) {
    const std::string password = name == "reader" ? "rpw" : "wpw";
    Side side{lab.connectNode(master), std::make_unique<RespClient>(proxy.port())};
    ASSERT_EQ(side.direct->call({"AUTH", name, password}), "+OK\r\n");
    ASSERT_EQ(side.proxied->call({"AUTH", name, password}), "+OK\r\n");
    sides.push_back(std::move(side));
  }
  // Step by step, each user in turn: their requests share the proxy's
  // connection to the node.
  for (std::size_t step = 0; step < kScript.size(); ++step) {
    for (std::size_t u = 0; u < sides.size(); ++u) {
      const std::string user = kUsers[u].first;
      const std::string direct = sides[u].direct->call(keyed(kScript[step], "acl:d:" + user + ":"));
      const std::string proxied =
          sides[u].proxied->call(keyed(kScript[step], "acl:p:" + user + ":"));
      EXPECT_EQ(proxied, direct) << user << ": " << kScript[step][0] << " (step " << step << ")";
    }
  }
  // The script reached both kinds of answer for both users.
  EXPECT_EQ(sides[0].proxied->call({"SET", "acl:x", "1"}),
            "-NOPERM this user has no permissions to run the 'set' command\r\n");
  EXPECT_EQ(sides[1].proxied->call({"SET", "acl:x", "1"}), "+OK\r\n");
  EXPECT_EQ(sides[1].proxied->call({"ACL", "WHOAMI"}), "$6\r\nwriter\r\n");
  // Counted per user. The reader was refused 17 times (ECHO, SET three
  // times, INCR, KEYS, SELECT twice, ACL WHOAMI, CLIENT GETNAME, CONFIG GET,
  // PUBLISH, SUBSCRIBE, UNSUBSCRIBE, MULTI, FLUSHALL, EXEC), the writer 3
  // times (KEYS, CONFIG GET, FLUSHALL: @dangerous). AUTH counts for the
  // user the client was before it.
  const std::string metrics = httpGet(proxy.adminPort(), "/metrics").body;
  auto sample = [&](const std::string& name, const std::string& user) {
    const std::string key = name + "{user=\"" + user + "\"} ";
    const auto at = metrics.find(key);
    return at == std::string::npos
               ? std::string("missing")
               : metrics.substr(at + key.size(), metrics.find('\n', at) - at - key.size());
  };
  EXPECT_EQ(sample("redis_ha_proxy_user_requests_total", "writer"),
            std::to_string(kScript.size() + 2))
      << metrics;
  EXPECT_EQ(sample("redis_ha_proxy_user_noperm_total", "reader"), "17") << metrics;
  EXPECT_EQ(sample("redis_ha_proxy_user_noperm_total", "writer"), "3") << metrics;
  EXPECT_EQ(sample("redis_ha_proxy_user_noperm_total", "default"), "0") << metrics;

  // A reload without the reader closes the reader's client only.
  std::ofstream(args.back(), std::ios::trunc)
      << "[proxy]\nusers = [\"" << kUsers[1].second << "\"]\n";
  proxy.signal(SIGHUP);
  EXPECT_TRUE(sides[0].proxied->waitForClose()) << proxy.log();
  EXPECT_EQ(sides[1].proxied->call({"GET", "acl:x"}), "$1\r\n1\r\n");
  RespClient again(proxy.port());
  EXPECT_EQ(again.call({"AUTH", "reader", "rpw"}),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
}

}  // namespace
}  // namespace rhp::test
