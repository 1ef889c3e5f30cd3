#include "tests/support/lab.h"

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

#include "tests/support/free_port.h"

namespace rhp::test {

namespace {

std::string joined(const std::vector<std::uint16_t>& ports) {
  std::string text;
  for (auto port : ports) text += (text.empty() ? "" : ",") + std::to_string(port);
  return text;
}

}  // namespace

Lab::Lab() : Lab(Options{}) {}

/* The ports are taken here, not by the lab program: freePort() keeps each
 * one locked for this test binary's life, so parallel test binaries
 * (ctest -j3) never hand out the same port. */
Lab::Lab(Options options) : options_(std::move(options)) {
  for (std::size_t i = 0; i < options_.nodes; ++i) node_ports_.push_back(freePort());
  sentinel_ports_ = options_.sentinel_ports;
  while (sentinel_ports_.size() < options_.sentinels) sentinel_ports_.push_back(freePort());
  std::vector<std::string> argv{"python3",
                                RHP_SOURCE_DIR "/scripts/lab.py",
                                "serve",
                                "--redis-ports",
                                joined(node_ports_),
                                "--sentinel-ports",
                                joined(sentinel_ports_)};
  for (const auto& line : options_.extra_redis_config) {
    argv.insert(argv.end(), {"--redis-config", line});
  }
  if (!options_.redis_password.empty()) {
    argv.insert(argv.end(), {"--redis-password", options_.redis_password});
  }
  if (!options_.sentinel_password.empty()) {
    argv.insert(argv.end(), {"--sentinel-password", options_.sentinel_password});
  }
  if (!options_.master_name.empty()) {
    argv.insert(argv.end(), {"--master-name", options_.master_name});
  }
  if (options_.down_after_ms != 0) {
    argv.insert(argv.end(), {"--down-after-ms", std::to_string(options_.down_after_ms)});
  }
  if (options_.tls) argv.push_back("--tls");
  if (options_.failover_timeout_ms != 0) {
    argv.insert(argv.end(),
                {"--failover-timeout-ms", std::to_string(options_.failover_timeout_ms)});
  }
  // A socket, not pipes: a write to a program that died fails with EPIPE
  // (MSG_NOSIGNAL) instead of killing the test binary. Close-on-exec, so no
  // other child (a proxy, another lab) keeps the program's input open.
  int link[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, link) != 0) {
    throw std::runtime_error("socketpair failed");
  }
  link_.fd = link[0];
  const Link program_end{link[1]};
  // SIGTERM if this binary dies: the program then stops the lab and removes it.
  program_ = ChildProcess(argv, program_end.fd, SIGTERM);
  // "ready dir=... master_name=... down_after_ms=... failover_timeout_ms=..."
  const std::string ready = ask("");
  std::istringstream fields(ready.substr(ready.find(' ') + 1));
  std::map<std::string, std::string> values;
  for (std::string field; fields >> field;) {
    values[field.substr(0, field.find('='))] = field.substr(field.find('=') + 1);
  }
  dir_ = values["dir"];
  options_.master_name = values["master_name"];
  options_.down_after_ms = std::stoi(values["down_after_ms"]);
  options_.failover_timeout_ms = std::stoi(values["failover_timeout_ms"]);
  tls_dir_ = values["tls_dir"];
}

std::unique_ptr<RespClient> Lab::connect(std::uint16_t port, const std::string& password,
                                         std::chrono::milliseconds timeout) const {
  const RespClient::Tls tls{tls_dir_ + "/ca.crt", tls_dir_ + "/client.crt",
                            tls_dir_ + "/client.key"};
  auto client = std::make_unique<RespClient>(port, timeout, tls_dir_.empty() ? nullptr : &tls);
  if (!password.empty()) client->call({"AUTH", password});
  return client;
}

std::string Lab::tlsToml(const std::string& extra) const {
  std::string section = "tls = true\ntls_ca_cert_file = \"" + tls_dir_ +
                        "/ca.crt\"\ntls_cert_file = \"" + tls_dir_ +
                        "/client.crt\"\ntls_key_file = \"" + tls_dir_ + "/client.key\"\n" + extra;
  return "[backend]\n" + section + "\n[sentinel]\n" + section;
}

/* End of input tells the program to stop the lab; it has 10 s before the
 * ChildProcess kills it (stopping six processes takes milliseconds). */
Lab::~Lab() {
  close(std::exchange(link_.fd, -1));
  program_.wait(10000);
}

std::string Lab::ask(const std::string& command) const {
  const std::lock_guard lock(mutex_);
  const std::string line = command + "\n";
  if (!command.empty()) (void)!send(link_.fd, line.data(), line.size(), MSG_NOSIGNAL);
  std::size_t end;
  char buffer[4096];
  while ((end = unread_.find('\n')) == std::string::npos) {
    const ssize_t got = recv(link_.fd, buffer, sizeof(buffer), 0);
    if (got <= 0) break;
    unread_.append(buffer, static_cast<std::size_t>(got));
  }
  const std::string answer = unread_.substr(0, end);
  unread_.erase(0, end == std::string::npos ? end : end + 1);
  if (answer.empty() || answer.rfind("error", 0) == 0) {
    throw std::runtime_error("scripts/lab.py: " +
                             (answer.empty() ? "exited (its stderr says why)" : answer));
  }
  return answer;
}

std::vector<std::string> Lab::proxyArgs() const {
  std::vector<std::string> args{"--master-name", options_.master_name};
  for (auto port : sentinel_ports_) {
    args.push_back("--sentinel");
    args.push_back("127.0.0.1:" + std::to_string(port));
  }
  return args;
}

std::vector<std::string> Lab::proxyArgs(const std::string& toml) const {
  const std::string path = dir_ + "/proxy-" + std::to_string(freePort()) + ".toml";
  std::ofstream(path) << toml;
  auto args = proxyArgs();
  args.insert(args.end(), {"--config", path});
  return args;
}

std::optional<std::size_t> Lab::sentinelMaster() const {
  const std::string answer = ask("master");
  if (answer == "none") return std::nullopt;
  return std::stoul(answer);
}

std::string Lab::role(std::size_t node) const {
  return ask("role " + std::to_string(node));
}

void Lab::signalNode(std::size_t node, int signo) {
  ask("signal node " + std::to_string(node) + " " + std::to_string(signo));
}

void Lab::signalSentinel(std::size_t sentinel, int signo) {
  ask("signal sentinel " + std::to_string(sentinel) + " " + std::to_string(signo));
}

std::optional<std::size_t> Lab::waitForNewMaster(std::size_t old_master,
                                                 std::chrono::milliseconds timeout) {
  std::optional<std::size_t> found;
  waitUntil(
      [&] {
        const auto master = sentinelMaster();
        if (!master || *master == old_master || role(*master) != "master") return false;
        found = master;
        return true;
      },
      timeout);
  return found;
}

void Lab::killNode(std::size_t node) {
  ask("kill " + std::to_string(node));
}

void Lab::restartNode(std::size_t node) {
  ask("start " + std::to_string(node));
}

std::string Lab::sentinelFailover() {
  return connectSentinel(0)->call({"SENTINEL", "FAILOVER", options_.master_name});
}

std::unique_ptr<RespClient> Lab::connectNode(std::size_t node,
                                             std::chrono::milliseconds timeout) const {
  return connect(node_ports_[node], options_.redis_password, timeout);
}

std::unique_ptr<RespClient> Lab::connectSentinel(std::size_t sentinel) const {
  return connect(sentinel_ports_[sentinel], options_.sentinel_password,
                 std::chrono::milliseconds(500));
}

bool Lab::waitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

long Lab::commandCalls(std::size_t node, const std::string& command) const {
  const std::string stats = RespClient::valueOf(connectNode(node)->call({"INFO", "commandstats"}));
  const std::string key = "cmdstat_" + command + ":calls=";
  const auto at = stats.find(key);
  return at == std::string::npos ? 0 : std::stol(stats.substr(at + key.size()));
}

void Lab::resetStats() const {
  for (std::size_t node = 0; node < nodeCount(); ++node)
    connectNode(node)->call({"CONFIG", "RESETSTAT"});
}

}  // namespace rhp::test
