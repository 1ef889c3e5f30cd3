#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <stdexcept>

#include "tests/support/child_process.h"
#include "tests/support/lab.h"
#include "tests/support/proxy_process.h"
#include "tests/support/resp_client.h"

namespace rhp::test {
namespace {

// Each run gets a new file. Naming it after a free port reused names: the
// port's lock ends with the process, the file stayed, and the child appends,
// so CI saw PrintsVersionAndHelp read an earlier test's log before its own.
std::string uniqueTempPath(const std::string& suffix) {
  std::string pattern = ::testing::TempDir() + "/cli-XXXXXX" + suffix;
  const int fd = mkstemps(pattern.data(), static_cast<int>(suffix.size()));
  if (fd < 0) throw std::runtime_error("mkstemps failed");
  close(fd);
  return pattern;
}

struct Outcome {
  int exit_code = -1;
  std::string output;
};

Outcome runProxy(const std::vector<std::string>& args) {
  const std::string log = uniqueTempPath(".log");
  std::vector<std::string> argv{ProxyProcess::binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess process(argv, log);
  const int status = process.wait(10000);
  Outcome outcome{status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1, readFile(log)};
  std::remove(log.c_str());
  return outcome;
}

std::string writeConfig(const std::string& text) {
  const std::string path = uniqueTempPath(".toml");
  std::ofstream(path) << text;
  return path;
}

TEST(CommandLine, PrintsVersionAndHelp) {
  const Outcome version = runProxy({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.output.rfind("redis-ha-proxy ", 0), 0u);
  const Outcome help = runProxy({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("--sentinel"), std::string::npos);
}

TEST(CommandLine, BadConfigExitsWithCode2AndNamesFileLineColumnAndKey) {
  const std::string path =
      writeConfig("[sentinel]\naddresses = [\"127.0.0.1:1\"]\n[proxy]\nmax_clients = \"x\"\n");
  const Outcome outcome = runProxy({"--config", path});
  EXPECT_EQ(outcome.exit_code, 2);
  EXPECT_NE(outcome.output.find(path + ":4:15: proxy.max_clients: must be an integer"),
            std::string::npos)
      << outcome.output;
  EXPECT_EQ(runProxy({"--config", path, "--check-config"}).exit_code, 2);
  EXPECT_EQ(runProxy({"--sentinel", "nohost"}).exit_code, 2);
}

TEST(CommandLine, CheckConfigAcceptsTheShippedExample) {
  const Outcome outcome =
      runProxy({"--config", std::string(RHP_SOURCE_DIR) + "/examples/redis-ha-proxy.toml",
                "--check-config"});
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
}

TEST(CommandLine, RefusesClientsPastMaxClientsLikeRedis) {
  const std::string path =
      writeConfig("[proxy]\nmax_clients = 2\n[sentinel]\naddresses = [\"127.0.0.1:1\"]\n");
  ProxyProcess proxy(::testing::TempDir(), {"--config", path});
  // The proxy counts a client as gone when it sees the close, a moment after
  // the client closed (the startup probe, for one): retry until accepted.
  auto acceptedClient = [&] {
    std::unique_ptr<RespClient> client;
    Lab::waitUntil(
        [&] {
          client = std::make_unique<RespClient>(proxy.port(), std::chrono::milliseconds(1000));
          return client->call({"PING"}) == "+PONG\r\n";
        },
        std::chrono::seconds(5));
    return client;
  };
  auto first = acceptedClient();
  auto second = acceptedClient();
  ASSERT_EQ(first->call({"PING"}), "+PONG\r\n");
  ASSERT_EQ(second->call({"PING"}), "+PONG\r\n");
  RespClient third(proxy.port());
  EXPECT_EQ(third.readReply().value_or(""), "-ERR max number of clients reached\r\n");
  EXPECT_TRUE(third.waitForClose());
  first->close();
  EXPECT_TRUE(Lab::waitUntil(
      [&] {
        RespClient again(proxy.port(), std::chrono::milliseconds(500));
        return again.call({"PING"}) == "+PONG\r\n";
      },
      std::chrono::seconds(5)));
}

}  // namespace
}  // namespace rhp::test
