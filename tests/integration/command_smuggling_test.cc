#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "commands/redis_match.h"
#include "tests/support/lab.h"
#include "tests/support/proxy_process.h"
#include "tests/support/resp_client.h"

namespace rhp::test {
namespace {

using namespace std::string_literals;

/* The reproducers of the command-smuggling report, sent through the proxy
 * to a real redis-server 7.0: a name with a NUL byte that Redis resolves,
 * by strcasecmp, to the command before the NUL whenever the name's hash
 * shares a bucket of the command dict. Redis seeds that hash at random on
 * each start, so each test tries hundreds of suffixes, as the attacker did,
 * and checks on the master itself (INFO commandstats) that none got there. */
class CommandSmuggling : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Lab::Options options;
    options.nodes = 2;
    lab_ = std::make_unique<Lab>(options);
    // One worker: every client shares the same backend connection, as the
    // victims of the report did.
    proxy_ = std::make_unique<ProxyProcess>(
        lab_->dir(),
        lab_->proxyArgs("[proxy]\nworkers = 1\n[routing]\nread_policy = \"master\"\n"));
    ASSERT_TRUE(proxy_->waitUntilWritable()) << proxy_->log();
  }
  static void TearDownTestSuite() {
    if (proxy_) {
      EXPECT_EQ(proxy_->terminate(), 0);
    }
    proxy_.reset();
    lab_.reset();
  }
  void TearDown() override { ASSERT_TRUE(proxy_->running()) << proxy_->log(); }

  static std::unique_ptr<RespClient> master() { return lab_->connectNode(*lab_->sentinelMaster()); }

  /* calls= of one cmdstat line of the master's INFO commandstats. */
  static long calls(const std::string& command) {
    const std::string info = RespClient::valueOf(master()->call({"INFO", "commandstats"}));
    const std::string key = "cmdstat_" + command + ":calls=";
    const auto at = info.find(key);
    return at == std::string::npos ? 0 : std::stol(info.substr(at + key.size()));
  }

  static bool isNulRefusal(const std::string& reply) {
    return reply.rfind("-ERR redis-ha-proxy refuses command, subcommand and parameter names", 0) ==
           0;
  }

  static std::unique_ptr<Lab> lab_;
  static std::unique_ptr<ProxyProcess> proxy_;
};

std::unique_ptr<Lab> CommandSmuggling::lab_;
std::unique_ptr<ProxyProcess> CommandSmuggling::proxy_;

TEST_F(CommandSmuggling, ConfigSetWithANulNeverChangesTheMaster) {
  const std::string before = master()->call({"CONFIG", "GET", "maxmemory-samples"});
  const long config_set_before = calls("config|set");
  RespClient client(proxy_->port());
  // The report's exact bytes first, then 400 suffixes.
  client.sendRaw("*4\r\n$6\r\nCONFIG\r\n$4\r\nSET\x00\r\n$17\r\nmaxmemory-samples\r\n$1\r\n9\r\n"s);
  const auto first = client.readReply();
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(isNulRefusal(*first)) << *first;
  for (int n = 0; n < 400; ++n) {
    const std::string reply =
        client.call({"CONFIG", "SET\0"s + std::to_string(n), "maxmemory-samples", "9"});
    ASSERT_TRUE(isNulRefusal(reply)) << n << ": " << reply;
  }
  EXPECT_EQ(master()->call({"CONFIG", "GET", "maxmemory-samples"}), before);
  EXPECT_EQ(calls("config|set"), config_set_before);
}

TEST_F(CommandSmuggling, ClientReplySkipWithANulCannotShiftAnotherClientsReplies) {
  RespClient attacker(proxy_->port());
  RespClient victim(proxy_->port());
  const long reply_before = calls("client|reply");
  for (int n = 0; n < 400; ++n) {
    // Pipelined so the attacker's request and the victim's travel together.
    attacker.sendRaw(RespClient::encode({"CLIENT", "REPLY\0"s + std::to_string(n), "SKIP"}) +
                     RespClient::encode({"GET", "smuggle:attacker"}));
    const std::string secret = "secret-" + std::to_string(n);
    victim.sendRaw(RespClient::encode({"SET", "smuggle:secret", secret}) +
                   RespClient::encode({"GET", "smuggle:secret"}));
    const auto refusal = attacker.readReply();
    const auto attacker_get = attacker.readReply();
    ASSERT_TRUE(refusal && attacker_get) << n;
    ASSERT_TRUE(isNulRefusal(*refusal)) << n << ": " << *refusal;
    ASSERT_EQ(*attacker_get, "$-1\r\n") << "the attacker got someone else's reply at " << n;
    ASSERT_EQ(victim.readReply().value_or(""), "+OK\r\n") << n;
    ASSERT_EQ(victim.readReply().value_or(""),
              "$" + std::to_string(secret.size()) + "\r\n" + secret + "\r\n")
        << n;
  }
  EXPECT_EQ(calls("client|reply"), reply_before);
}

TEST_F(CommandSmuggling, DebugAndClientPauseWithANulNeverReachTheMaster) {
  const long debug_before = calls("debug");
  const long pause_before = calls("client|pause");
  RespClient client(proxy_->port());
  for (int n = 0; n < 1000; ++n) {
    ASSERT_TRUE(isNulRefusal(client.call({"DEBUG\0"s + std::to_string(n), "SLEEP", "0"}))) << n;
  }
  for (int n = 0; n < 400; ++n) {
    ASSERT_TRUE(isNulRefusal(client.call({"CLIENT", "PAUSE\0"s + std::to_string(n), "1"}))) << n;
  }
  EXPECT_EQ(calls("debug"), debug_before);
  EXPECT_EQ(calls("client|pause"), pause_before);
}

TEST_F(CommandSmuggling, XreadBlockWithANulDoesNotStallTheSharedConnection) {
  // Redis reads "BLOCK\0" as BLOCK; on the shared connection the 3 s block
  // would hold every other client's reply behind it.
  RespClient blocker(proxy_->port());
  blocker.sendRaw(RespClient::encode({"XREAD", "BLOCK\0"s, "3000", "STREAMS", "smuggle:s", "$"}));
  RespClient other(proxy_->port(), std::chrono::milliseconds(1000));
  EXPECT_EQ(other.call({"SET", "smuggle:other", "1"}), "+OK\r\n");
  EXPECT_EQ(blocker.readReply().value_or(""), "*-1\r\n");
}

// In subscribed mode every request used to be forwarded unchecked:
// RESET\0<n> ran as RESET on the dedicated connection (logging it out of
// the proxy's ACL user) and CONFIG SET\0 reached Redis's lookup.
TEST_F(CommandSmuggling, SubscribedClientsGetNoPassEither) {
  const long reset_before = calls("reset");
  const long config_set_before = calls("config|set");
  for (int n = 0; n < 100; ++n) {
    RespClient client(proxy_->port());
    ASSERT_EQ(client.call({"SUBSCRIBE", "smuggle:ch"}),
              "*3\r\n$9\r\nsubscribe\r\n$10\r\nsmuggle:ch\r\n:1\r\n");
    const bool config = n % 2 == 0;
    client.sendRaw(RespClient::encode({config ? "CONFIG" : "RESET\0"s + std::to_string(n),
                                       config ? "SET\0"s + std::to_string(n) : "x",
                                       "maxmemory-samples", "9"}));
    const auto reply = client.readReply();
    ASSERT_TRUE(reply.has_value()) << n;
    ASSERT_TRUE(isNulRefusal(*reply)) << n << ": " << *reply;
    EXPECT_TRUE(client.waitForClose()) << n;
  }
  EXPECT_EQ(calls("reset"), reset_before);
  EXPECT_EQ(calls("config|set"), config_set_before);
  // A real RESET leaves subscribed mode as Redis's does, answered by the
  // proxy (forwarded, it would log the dedicated connection out).
  RespClient client(proxy_->port());
  client.call({"SUBSCRIBE", "smuggle:ch"});
  EXPECT_EQ(client.call({"RESET"}), "+RESET\r\n");
  EXPECT_EQ(client.call({"SET", "smuggle:after-reset", "1"}), "+OK\r\n");
  EXPECT_EQ(calls("reset"), reset_before);
}

// Redis refuses AUTH and HELLO in subscribed mode; the proxy gives the
// same answers, in order among the pushes. (That the credentials are
// blanked before the request reaches Redis cannot be seen from outside:
// Redis rejects the command before anything would log its arguments.)
TEST_F(CommandSmuggling, AuthAndHelloWhileSubscribedAreAnsweredAsRedisDoesWithoutTheSecret) {
  auto direct = master();
  RespClient proxied(proxy_->port());
  for (RespClient* client : {direct.get(), &proxied}) {
    ASSERT_EQ(client->call({"SUBSCRIBE", "smuggle:auth"}),
              "*3\r\n$9\r\nsubscribe\r\n$12\r\nsmuggle:auth\r\n:1\r\n");
  }
  const std::vector<std::vector<std::string>> requests{{"AUTH", "s3cret"},
                                                       {"AUTH", "default", "s3cret"},
                                                       {"HELLO", "3", "AUTH", "default", "s3cret"},
                                                       {"PING"}};
  for (const auto& request : requests) {
    const std::string expected = direct->call(request);
    ASSERT_EQ(expected.rfind(request[0] == "PING" ? "*2" : "-ERR Can't execute", 0), 0u)
        << expected;
    EXPECT_EQ(proxied.call(request), expected) << request[0];
  }
}

// Option values are not keywords: Redis skips GROUP's two values, so a
// group named "streams" still blocks, and must not on a shared link.
TEST_F(CommandSmuggling, XreadgroupWithAGroupNamedStreamsBlocksOnItsOwnConnection) {
  RespClient setup(proxy_->port());
  setup.call({"DEL", "smuggle:stream"});
  ASSERT_EQ(setup.call({"XGROUP", "CREATE", "smuggle:stream", "streams", "$", "MKSTREAM"}),
            "+OK\r\n");
  RespClient blocker(proxy_->port());
  blocker.sendRaw(RespClient::encode(
      {"XREADGROUP", "GROUP", "streams", "c", "BLOCK", "3000", "STREAMS", "smuggle:stream", ">"}));
  RespClient other(proxy_->port(), std::chrono::milliseconds(1000));
  EXPECT_EQ(other.call({"SET", "smuggle:other", "2"}), "+OK\r\n");
  EXPECT_EQ(blocker.readReply().value_or(""), "*-1\r\n");
}

// "$03" is a length to a lax parser and a protocol error to Redis, which
// would close the shared link under everyone's requests.
TEST_F(CommandSmuggling, LengthsRedisRejectsNeverReachTheSharedLink) {
  RespClient victim(proxy_->port());
  victim.call({"SET", "smuggle:counter", "0"});
  for (int n = 0; n < 50; ++n) {
    RespClient attacker(proxy_->port());
    // The victim's requests follow the attacker's onto the shared link.
    attacker.sendRaw("*2\r\n$03\r\nGET\r\n$1\r\nx\r\n");
    std::string pipeline;
    for (int i = 0; i < 20; ++i) pipeline += RespClient::encode({"INCR", "smuggle:counter"});
    victim.sendRaw(pipeline);
    EXPECT_EQ(attacker.readReply().value_or(""), "-ERR Protocol error: invalid bulk length\r\n");
    for (int i = 1; i <= 20; ++i) {
      ASSERT_EQ(victim.readReply().value_or(""), ":" + std::to_string(20 * n + i) + "\r\n") << n;
    }
  }
}

TEST_F(CommandSmuggling, RefusesWhatTheHandListLetThrough) {
  RespClient client(proxy_->port());
  auto refused = [&](const std::vector<std::string>& args) {
    const std::string reply = client.call(args);
    return reply.rfind("-ERR", 0) == 0 && reply.find("redis-ha-proxy") != std::string::npos;
  };
  EXPECT_TRUE(refused({"ACL", "SETUSER", "smuggler", "on", ">pw", "+@all", "~*"}));
  EXPECT_TRUE(refused({"ACL", "DELUSER", "default"}));
  EXPECT_TRUE(refused({"ACL", "LOAD"}));
  EXPECT_TRUE(refused({"ACL", "GETUSER", "default"}));
  EXPECT_TRUE(refused({"MIGRATE", "127.0.0.1", "1", "k", "0", "100"}));
  EXPECT_TRUE(refused({"CONFIG", "GET", "*pass*"}));
  EXPECT_TRUE(refused({"CONFIG", "GET", "*"}));
  EXPECT_TRUE(refused({"CONFIG", "GET", "masterauth"}));
  EXPECT_TRUE(refused({"SLOWLOG", "GET"}));
  EXPECT_TRUE(refused({"CLIENT", "LIST"}));
  EXPECT_EQ(master()->call({"ACL", "USERS"}), "*1\r\n$7\r\ndefault\r\n");
  // What applications use still works, with Redis's own answers.
  EXPECT_EQ(client.call({"CONFIG", "GET", "maxmemory-policy"}),
            master()->call({"CONFIG", "GET", "maxmemory-policy"}));
  EXPECT_EQ(client.call({"CONFIG", "NOSUCH"}), master()->call({"CONFIG", "NOSUCH"}));
  EXPECT_EQ(client.call({"KEYS", "smuggle:nothing*"}), "*0\r\n");
  EXPECT_EQ(client.call({"ACL", "WHOAMI"}), "$7\r\ndefault\r\n");
}

/* The proxy decides whether a CONFIG GET pattern could reveal a secret with
 * its own copy of Redis's rules; here Redis itself judges random patterns,
 * and every secret parameter Redis lists must be one the proxy refuses. */
TEST_F(CommandSmuggling, GlobAgreesWithRedisOnSecretParameters) {
  const std::vector<std::string> secrets = {"masterauth", "masteruser", "requirepass",
                                            "tls-client-key-file-pass", "tls-key-file-pass"};
  const std::string alphabet = "requipasmtlk-f*?[]^\\R\x01\x7f\x80\xfe\xff";
  std::mt19937 random(20261202);
  auto node = master();
  std::size_t refused_patterns = 0;
  for (int round = 0; round < 4000; ++round) {
    std::string pattern;
    const std::size_t length = 1 + random() % 14;
    // Half start from a real secret name and mutate it, so matches happen.
    if (round % 2 == 0) pattern = secrets[random() % secrets.size()];
    while (pattern.size() < length || random() % 3 == 0) {
      const std::size_t at = pattern.empty() ? 0 : random() % (pattern.size() + 1);
      pattern.insert(at, 1, alphabet[random() % alphabet.size()]);
      if (random() % 2 == 0 && pattern.size() > 1) pattern.erase(random() % pattern.size(), 1);
      if (pattern.size() > 30) break;
    }
    // A name is echoed as the client spelled it, so compare folded.
    std::string reply = node->call({"CONFIG", "GET", pattern});
    for (char& c : reply) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const auto& secret : secrets) {
      const bool redis_lists = reply.find("$" + std::to_string(secret.size()) + "\r\n" + secret +
                                          "\r\n") != std::string::npos;
      const bool proxy_matches = commands::redisConfigGetMatches(pattern, secret);
      ASSERT_EQ(proxy_matches, redis_lists) << "pattern '" << pattern << "' secret " << secret;
      refused_patterns += proxy_matches ? 1 : 0;
    }
  }
  EXPECT_GT(refused_patterns, 200u);  // the mutations did hit secrets
}

}  // namespace
}  // namespace rhp::test

namespace rhp::test {
namespace {

/* The README's recommended backend ACL user, verbatim: the proxy works with
 * it (topology probes, replica reads, WAIT, pub/sub, transactions, script
 * broadcast) and Redis itself refuses what a script or an allow-listed
 * command would otherwise reach. */
TEST(BackendAclUser, TheReadmesUserRunsTheProxyAndRedisEnforcesTheRest) {
  std::ifstream readme(std::string(RHP_SOURCE_DIR) + "/README.md");
  std::string acl_line;
  while (std::getline(readme, acl_line) && !acl_line.starts_with("user redis-ha-proxy ")) {
  }
  ASSERT_TRUE(acl_line.starts_with("user redis-ha-proxy ")) << "no ACL line in README.md";
  Lab::Options options;
  options.nodes = 2;
  options.extra_redis_config = {acl_line};
  Lab lab(options);
  ProxyProcess proxy(lab.dir(), lab.proxyArgs("[backend]\n"
                                              "username = \"redis-ha-proxy\"\n"
                                              "password = \"CHANGE-ME\"\n"
                                              "[routing]\n"
                                              "allow_commands = [\"config|set\"]\n"));
  ASSERT_TRUE(proxy.waitUntilWritable()) << proxy.log();
  // Replica eligibility needs ROLE and INFO replication on every node.
  ASSERT_TRUE(proxy.waitForEligibleReplicas(1)) << proxy.log();

  RespClient client(proxy.port());
  EXPECT_EQ(client.call({"SET", "acl:k", "v"}), "+OK\r\n");
  EXPECT_EQ(client.call({"WAIT", "1", "2000"}), ":1\r\n");
  EXPECT_EQ(client.call({"GET", "acl:k"}), "$1\r\nv\r\n");
  EXPECT_EQ(client.call({"CLIENT", "SETNAME", "acl-test"}), "+OK\r\n");
  EXPECT_EQ(client.call({"INFO", "server"}).rfind("$", 0), 0u);
  EXPECT_EQ(client.call({"SCRIPT", "LOAD", "return 1"}).rfind("$40\r\n", 0), 0u);
  EXPECT_EQ(client.call({"MULTI"}), "+OK\r\n");
  EXPECT_EQ(client.call({"INCR", "acl:n"}), "+QUEUED\r\n");
  EXPECT_EQ(client.call({"EXEC"}), "*1\r\n:1\r\n");
  // Allowed by the proxy, refused by Redis: the ACL is the real guard.
  EXPECT_EQ(client.call({"CONFIG", "SET", "maxmemory", "1"}).rfind("-NOPERM", 0), 0u);
  const std::string migrate = client.call(
      {"EVAL", "return redis.call('migrate', '127.0.0.1', '1', 'acl:k', '0', '100')", "0"});
  EXPECT_NE(migrate.find("can't run this command"), std::string::npos) << migrate;
  // RESET logs a dedicated connection out to Redis's default user and
  // puts it in db 0: the proxy logs it in again and reselects.
  EXPECT_EQ(client.call({"SELECT", "1"}), "+OK\r\n");
  EXPECT_EQ(client.call({"WATCH", "acl:w"}), "+OK\r\n");
  EXPECT_EQ(client.call({"RESET"}), "+RESET\r\n");
  EXPECT_EQ(client.call({"SELECT", "1"}), "+OK\r\n");
  EXPECT_EQ(client.call({"WATCH", "acl:w"}), "+OK\r\n");
  // The proxy answers ACL WHOAMI with the client's own user; queued in a
  // transaction it is Redis's answer, the dedicated connection's user.
  EXPECT_EQ(client.call({"ACL", "WHOAMI"}), "$7\r\ndefault\r\n");
  EXPECT_EQ(client.call({"MULTI"}), "+OK\r\n");
  EXPECT_EQ(client.call({"ACL", "WHOAMI"}), "+QUEUED\r\n");
  EXPECT_EQ(client.call({"SET", "acl:dbprobe", "x"}), "+QUEUED\r\n");
  EXPECT_EQ(client.call({"EXEC"}), "*2\r\n$14\r\nredis-ha-proxy\r\n+OK\r\n");
  EXPECT_EQ(lab.connectNode(*lab.sentinelMaster())->call({"EXISTS", "acl:dbprobe"}), ":0\r\n");
  RespClient subscriber(proxy.port());
  EXPECT_EQ(subscriber.call({"SUBSCRIBE", "acl:ch"}),
            "*3\r\n$9\r\nsubscribe\r\n$6\r\nacl:ch\r\n:1\r\n");
  EXPECT_EQ(client.call({"PUBLISH", "acl:ch", "m"}), ":1\r\n");
  EXPECT_EQ(subscriber.readReply().value_or(""),
            "*3\r\n$7\r\nmessage\r\n$6\r\nacl:ch\r\n$1\r\nm\r\n");
  EXPECT_EQ(proxy.terminate(), 0);
}

}  // namespace
}  // namespace rhp::test
