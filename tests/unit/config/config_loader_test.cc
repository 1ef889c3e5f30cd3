#include "config/config_loader.h"

#include <gtest/gtest.h>

namespace rhp::config {
namespace {

std::vector<std::string> problemsOf(const std::string& toml, CliOverrides overrides = {}) {
  try {
    loadConfigFromString(toml, "test.toml", overrides);
  } catch (const ConfigError& error) {
    return error.problems();
  }
  return {};
}

const std::string kMinimal = "[sentinel]\naddresses = [\"127.0.0.1:26379\"]\n";

TEST(ConfigLoader, AppliesDocumentedDefaults) {
  const Config config = loadConfigFromString(kMinimal, "test.toml", {});
  EXPECT_EQ(config.proxy.listen->toString(), "127.0.0.1:6380");
  EXPECT_EQ(config.proxy.max_clients, 10000u);
  EXPECT_EQ(config.proxy.max_bulk_len, 512ull * 1024 * 1024);
  EXPECT_EQ(config.proxy.max_array_len, 1024u * 1024);
  EXPECT_EQ(config.failover.hold.count(), 5000);
  EXPECT_EQ(config.sentinel.poll_interval.count(), 1000);
  EXPECT_EQ(config.sentinel.master_name, "mymaster");
}

TEST(ConfigLoader, ReadsEverySection) {
  const Config config = loadConfigFromString(R"(
[proxy]
listen = "127.0.0.1:7777"
workers = 3
max_clients = 5
[backend]
request_timeout_ms = 250
password = "secret"
[sentinel]
master_name = "app-cache"
addresses = ["127.0.0.1:1", "[::1]:2"]
[failover]
hold_ms = 0
[log]
level = "debug"
)",
                                             "test.toml", {});
  EXPECT_EQ(config.proxy.listen->port, 7777);
  EXPECT_EQ(config.effectiveWorkers(), 3u);
  EXPECT_EQ(config.proxy.max_clients, 5u);
  EXPECT_EQ(config.backend.request_timeout.count(), 250);
  EXPECT_EQ(config.backend.password, "secret");
  ASSERT_EQ(config.sentinel.addresses.size(), 2u);
  EXPECT_EQ(config.sentinel.addresses[1].toString(), "[::1]:2");
  EXPECT_EQ(config.failover.hold.count(), 0);
  EXPECT_EQ(config.log.level, "debug");
}

TEST(ConfigLoader, NamesFileLineColumnAndKeyForUnknownKeys) {
  const auto problems = problemsOf(kMinimal + "[proxy]\nlisten_port = 1\n");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0], "test.toml:4:1: proxy.listen_port: unknown key");
}

TEST(ConfigLoader, RejectsUnknownSections) {
  const auto problems = problemsOf(kMinimal + "[proxi]\n");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("proxi: unknown section"), std::string::npos);
}

TEST(ConfigLoader, RejectsWrongTypesAndRanges) {
  const auto problems = problemsOf(kMinimal + "[proxy]\nmax_clients = \"many\"\nworkers = -1\n");
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0], "test.toml:4:15: proxy.max_clients: must be an integer");
  EXPECT_EQ(problems[1], "test.toml:5:11: proxy.workers: must be between 0 and 256");
}

/* A float where an integer belongs is a problem, however big: 9e99 once
 * reached an int64 cast inside toml++ (undefined behaviour, found by the
 * config_loader fuzz target). */
TEST(ConfigLoader, RejectsFloatsWhereIntegersBelong) {
  const auto problems = problemsOf(kMinimal + "[proxy]\nworkers = 9e99\nmax_clients = 2.0\n");
  ASSERT_EQ(problems.size(), 2u);
  // In key order, as toml++ keeps a table.
  EXPECT_EQ(problems[0], "test.toml:5:15: proxy.max_clients: must be an integer");
  EXPECT_EQ(problems[1], "test.toml:4:11: proxy.workers: must be an integer");
}

TEST(ConfigLoader, RejectsBadAddresses) {
  const auto problems =
      problemsOf("[sentinel]\naddresses = [\"127.0.0.1\", \"127.0.0.1:99999\"]\n");
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_NE(problems[0].find("test.toml:2:14: sentinel.addresses: bad address '127.0.0.1'"),
            std::string::npos);
  EXPECT_NE(problems[1].find("must be a number from 1 to 65535"), std::string::npos);
}

/* The TLS port (Redis's tls-port): its certificate is loaded when the file
 * is read, and tls_auth_clients "yes" (Redis's default) needs the CAs. */
TEST(ConfigLoader, PassthroughLeavesPasswordsToTheNodes) {
  Config config = loadConfigFromString(kMinimal +
                                           "[proxy]\nauth = \"passthrough\"\n"
                                           "auth_cache_ms = 0\n[backend]\nmax_users = 8\n"
                                           "user_idle_timeout_ms = 500\n",
                                       "test.toml", {});
  EXPECT_EQ(config.proxy.auth, AuthMode::Passthrough);
  EXPECT_EQ(config.proxy.auth_cache.count(), 0);
  EXPECT_EQ(config.backend.max_users, 8u);
  EXPECT_EQ(config.backend.user_idle_timeout.count(), 500);
  EXPECT_EQ(loadConfigFromString(kMinimal, "test.toml", {}).proxy.auth, AuthMode::Local);
  for (const std::string extra : {"password = \"x\"\n", "users = [\"user a on nopass +@all\"]\n"}) {
    const auto problems = problemsOf(kMinimal + "[proxy]\nauth = \"passthrough\"\n" + extra);
    ASSERT_EQ(problems.size(), 1u) << extra;
    EXPECT_EQ(problems[0],
              "proxy.auth = \"passthrough\": the nodes check clients' passwords; leave "
              "proxy.password and proxy.users empty");
  }
  EXPECT_EQ(problemsOf(kMinimal + "[proxy]\nauth = \"nodes\"\n").size(), 1u);
}

TEST(ConfigLoader, TheTlsPortNeedsACertificateAndForClientCertificatesACa) {
  auto problems = problemsOf(kMinimal + "[proxy]\ntls_listen = \"127.0.0.1:6390\"\n");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0], "proxy.tls_listen: no tls_cert_file: clients need one");
  problems = problemsOf(kMinimal + "[proxy]\nlisten = \"\"\n");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0], "proxy.listen and proxy.tls_listen are both off: clients need one");
  problems = problemsOf(kMinimal + "[proxy]\ntls_auth_clients = \"sometimes\"\n");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("proxy.tls_auth_clients"), std::string::npos) << problems[0];
  const Config config = loadConfigFromString(kMinimal, "test.toml", {});
  EXPECT_FALSE(config.proxy.tls_listen.has_value());
  EXPECT_EQ(config.proxy.tls.auth_clients, net::TlsAuthClients::Yes);
  EXPECT_EQ(config.proxy.tls_handshake_timeout.count(), 10000);
}

TEST(ConfigLoader, ReportsTomlSyntaxErrorsWithPosition) {
  const auto problems = problemsOf("[proxy\n");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].rfind("test.toml:1:", 0), 0u);
}

TEST(ConfigLoader, RequiresASentinel) {
  const auto problems = problemsOf("");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("sentinel.addresses"), std::string::npos);
}

TEST(ConfigLoader, CommandLineOverridesTheFile) {
  CliOverrides overrides;
  overrides.listen = "127.0.0.1:0";
  overrides.sentinels = {"127.0.0.1:5000"};
  overrides.master_name = "other";
  const Config config = loadConfigFromString(kMinimal, "test.toml", overrides);
  EXPECT_EQ(config.proxy.listen->port, 0);
  ASSERT_EQ(config.sentinel.addresses.size(), 1u);
  EXPECT_EQ(config.sentinel.addresses[0].port, 5000);
  EXPECT_EQ(config.sentinel.master_name, "other");
  overrides.listen = "nonsense";
  EXPECT_EQ(problemsOf(kMinimal, overrides).size(), 1u);
}

}  // namespace
}  // namespace rhp::config

namespace rhp::config {
namespace {

TEST(ConfigLoader, ReadsTheRoutingSection) {
  const Config config = loadConfigFromString(R"(
[sentinel]
addresses = ["127.0.0.1:26379"]
[routing]
read_policy = "replica"
replica_balance = "least-outstanding"
max_replica_lag_ms = 250
sticky_after_write_ms = 100
replica_weights = { "127.0.0.1:7002" = 3, "127.0.0.1:7003" = 0 }
allow_commands = ["CONFIG SET", "bgsave", "client|kill"]
)",
                                             "test.toml", {});
  EXPECT_EQ(config.routing.read_policy, Config::Routing::ReadPolicy::Replica);
  EXPECT_EQ(config.routing.replica_balance, Config::Routing::Balance::LeastOutstanding);
  EXPECT_EQ(config.routing.max_replica_lag.count(), 250);
  EXPECT_EQ(config.routing.sticky_after_write.count(), 100);
  ASSERT_EQ(config.routing.replica_weights.size(), 2u);
  EXPECT_EQ(config.routing.replica_weights[0].replica.port, 7002);
  EXPECT_EQ(config.routing.replica_weights[0].weight, 3u);
  EXPECT_EQ(config.routing.replica_weights[1].weight, 0u);
  EXPECT_EQ(config.routing.allow_commands,
            (std::vector<std::string>{"config|set", "bgsave", "client|kill"}));
}

TEST(ConfigLoader, RoutingDefaultsPreferReplicasWithoutStickiness) {
  const Config config =
      loadConfigFromString("[sentinel]\naddresses = [\"127.0.0.1:1\"]\n", "test.toml", {});
  EXPECT_EQ(config.routing.read_policy, Config::Routing::ReadPolicy::PreferReplica);
  EXPECT_EQ(config.routing.replica_balance, Config::Routing::Balance::RoundRobin);
  EXPECT_EQ(config.routing.sticky_after_write.count(), 0);
  EXPECT_TRUE(config.routing.allow_commands.empty());
}

TEST(ConfigLoader, RejectsRoutingMistakesWithTheirPosition) {
  const auto problems = problemsOf(R"([sentinel]
addresses = ["127.0.0.1:26379"]
[routing]
read_policy = "sometimes"
allow_commands = ["monitor", "get"]
)");
  ASSERT_EQ(problems.size(), 3u);
  EXPECT_EQ(problems[0],
            "test.toml:5:19: routing.allow_commands: 'monitor' can never be proxied "
            "(it takes over the connection)");
  EXPECT_EQ(problems[1],
            "test.toml:5:30: routing.allow_commands: 'get' is not disabled, so there is nothing "
            "to allow");
  EXPECT_EQ(problems[2],
            "test.toml:4:15: routing.read_policy: must be one of master, prefer-replica, replica");
}

TEST(ConfigLoader, NeverAllowsCommandsThatReadOrChangeCredentials) {
  const auto problems = problemsOf(R"([sentinel]
addresses = ["127.0.0.1:26379"]
[routing]
allow_commands = ["acl setuser", "acl|log", "migrate"]
)");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0],
            "test.toml:4:19: routing.allow_commands: 'acl|setuser' can never be proxied "
            "(it reads or changes credentials)");
}

}  // namespace
}  // namespace rhp::config
