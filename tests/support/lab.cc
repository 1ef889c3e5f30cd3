#include "tests/support/lab.h"

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <thread>

#include "tests/support/free_port.h"
#include "tests/support/resp_client.h"

namespace rhp::test {

namespace {

/* Parses "*2\r\n$9\r\n127.0.0.1\r\n$4\r\n6379\r\n" style arrays of bulks. */
std::vector<std::string> bulkItems(const std::string& reply) {
  std::vector<std::string> items;
  std::size_t pos = reply.find("\r\n");
  while (pos != std::string::npos && pos + 2 < reply.size()) {
    pos += 2;
    if (reply[pos] != '$') {
      pos = reply.find("\r\n", pos);
      continue;
    }
    const std::size_t header_end = reply.find("\r\n", pos);
    const long length = std::stol(reply.substr(pos + 1, header_end - pos - 1));
    if (length < 0) {
      pos = header_end;
      continue;
    }
    items.push_back(reply.substr(header_end + 2, static_cast<std::size_t>(length)));
    pos = header_end + 2 + static_cast<std::size_t>(length);
  }
  return items;
}

std::unique_ptr<RespClient> connect(
    std::uint16_t port, const std::string& password,
    std::chrono::milliseconds timeout = std::chrono::milliseconds(500)) {
  auto client = std::make_unique<RespClient>(port, timeout);
  if (!password.empty()) client->call({"AUTH", password});
  return client;
}

bool answersPing(std::uint16_t port, const std::string& password) {
  auto client = connect(port, password);
  return client->connected() && client->call({"PING"}) == "+PONG\r\n";
}

}  // namespace

Lab::Lab() : Lab(Options{}) {}

Lab::Lab(Options options) : options_(std::move(options)) {
  std::string pattern = (std::filesystem::temp_directory_path() / "rhp-lab-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  for (std::size_t i = 0; i < options_.nodes; ++i) node_ports_.push_back(freePort());
  sentinel_ports_ = options_.sentinel_ports;
  while (sentinel_ports_.size() < options_.sentinels) sentinel_ports_.push_back(freePort());
  nodes_.resize(options_.nodes);
  for (std::size_t node = 0; node < options_.nodes; ++node) {
    const std::string conf = dir_ + "/redis-" + std::to_string(node) + ".conf";
    std::ofstream out(conf);
    out << "port " << node_ports_[node] << "\nbind 127.0.0.1\nsave \"\"\nappendonly no\n"
        << "dir " << dir_ << "\ndbfilename dump-" << node << ".rdb\n";
    if (node != 0) out << "replicaof 127.0.0.1 " << node_ports_[0] << "\n";
    if (!options_.redis_password.empty()) {
      out << "requirepass " << options_.redis_password << "\nmasterauth " << options_.redis_password
          << "\n";
    }
    for (const auto& line : options_.extra_redis_config) out << line << "\n";
    out.close();
    startNode(node);
  }
  for (std::size_t i = 0; i < options_.sentinels; ++i) {
    const std::string conf = dir_ + "/sentinel-" + std::to_string(i) + ".conf";
    std::ofstream out(conf);
    out << "port " << sentinel_ports_[i] << "\nbind 127.0.0.1\ndir " << dir_ << "\n"
        << "sentinel monitor " << options_.master_name << " 127.0.0.1 " << node_ports_[0] << " 2\n"
        << "sentinel down-after-milliseconds " << options_.master_name << " "
        << options_.down_after_ms << "\n"
        << "sentinel failover-timeout " << options_.master_name << " "
        << options_.failover_timeout_ms << "\n"
        << "sentinel parallel-syncs " << options_.master_name << " 1\n";
    if (!options_.redis_password.empty()) {
      out << "sentinel auth-pass " << options_.master_name << " " << options_.redis_password
          << "\n";
    }
    if (!options_.sentinel_password.empty()) {
      out << "requirepass " << options_.sentinel_password << "\nsentinel sentinel-pass "
          << options_.sentinel_password << "\n";
    }
    out.close();
    sentinels_.emplace_back(std::vector<std::string>{"redis-sentinel", conf},
                            dir_ + "/sentinel-" + std::to_string(i) + ".log");
  }
  for (std::size_t i = 0; i < sentinels_.size(); ++i) {
    waitForStart(sentinels_[i], sentinel_ports_[i], options_.sentinel_password,
                 dir_ + "/sentinel-" + std::to_string(i) + ".log");
  }
  waitForSentinelsToKnowEachOther();
}

Lab::~Lab() {
  sentinels_.clear();
  nodes_.clear();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void Lab::startNode(std::size_t node) {
  const std::string conf = dir_ + "/redis-" + std::to_string(node) + ".conf";
  nodes_[node] =
      ChildProcess({"redis-server", conf}, dir_ + "/redis-" + std::to_string(node) + ".log");
  waitForStart(nodes_[node], node_ports_[node], options_.redis_password,
               dir_ + "/redis-" + std::to_string(node) + ".log");
}

/* Something else answering on the port (it was taken after freePort) must
 * not pass for the process just started, so it has to be alive as well. */
void Lab::waitForStart(ChildProcess& process, std::uint16_t port, const std::string& password,
                       const std::string& log_path) {
  bool exited = false;
  const bool answered = waitUntil(
      [&] {
        exited = process.wait(0) != -1;
        return exited || answersPing(port, password);
      },
      std::chrono::seconds(10));
  if (answered && !exited) return;
  throw std::runtime_error("lab process for port " + std::to_string(port) +
                           (exited ? " exited" : " did not answer PING within 10 s") +
                           "; its log " + log_path + " says:\n" + readFile(log_path));
}

/* A failover needs every sentinel to know the others (they meet through
 * hello messages on the master every 2 s) and the replicas in sync. */
void Lab::waitForSentinelsToKnowEachOther() {
  std::string waiting_for;  // the last condition not met, for the error
  const bool ready = waitUntil(
      [&] {
        for (std::size_t i = 0; i < sentinel_ports_.size(); ++i) {
          const auto fields =
              bulkItems(connectSentinel(i)->call({"SENTINEL", "MASTER", options_.master_name}));
          std::map<std::string, std::string> info;
          for (std::size_t f = 0; f + 1 < fields.size(); f += 2) info[fields[f]] = fields[f + 1];
          waiting_for = "sentinel " + std::to_string(sentinel_ports_[i]) + " knows " +
                        info["num-other-sentinels"] + " other sentinels and " + info["num-slaves"] +
                        " replicas";
          if (info["num-other-sentinels"] != std::to_string(sentinel_ports_.size() - 1)) {
            return false;
          }
          if (info["num-slaves"] != std::to_string(node_ports_.size() - 1)) return false;
        }
        // Replicas count as connected while their initial sync is still
        // running; a failover then would lose what they had not loaded yet.
        const std::string info = connectNode(0)->call({"INFO", "replication"});
        std::size_t online = 0;
        for (std::size_t pos = info.find("state=online"); pos != std::string::npos;
             pos = info.find("state=online", pos + 1)) {
          ++online;
        }
        waiting_for = "the master has " + std::to_string(online) + " replicas online";
        if (online != node_ports_.size() - 1) return false;
        for (std::size_t node = 1; node < node_ports_.size(); ++node) {
          const std::string replica = connectNode(node)->call({"INFO", "replication"});
          waiting_for = "replica " + std::to_string(node_ports_[node]) + " link up and synced";
          if (replica.find("master_link_status:up") == std::string::npos) return false;
          if (replica.find("master_sync_in_progress:0") == std::string::npos) return false;
        }
        return true;
      },
      // Generous: the suite runs two labs side by side, under ASan too.
      std::chrono::seconds(40));
  if (!ready) {
    throw std::runtime_error(
        "lab not ready within 40 s: the sentinels must know each other and the replicas, and "
        "the replicas must have finished their initial sync; still waiting for: " +
        waiting_for + " (logs in " + dir_ + ")");
  }
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
  std::map<std::size_t, std::size_t> votes;
  for (std::size_t i = 0; i < sentinel_ports_.size(); ++i) {
    const auto items = bulkItems(
        connectSentinel(i)->call({"SENTINEL", "get-master-addr-by-name", options_.master_name}));
    if (items.size() != 2) continue;
    const std::size_t node = nodeIndexOfPort(static_cast<std::uint16_t>(std::stoi(items[1])));
    if (node < node_ports_.size()) ++votes[node];
  }
  for (const auto& [node, count] : votes) {
    if (count * 2 > sentinel_ports_.size()) return node;
  }
  return std::nullopt;
}

std::string Lab::role(std::size_t node) const {
  auto client = connectNode(node);
  if (!client->connected()) return "down";
  const std::string reply = client->call({"ROLE"});
  const auto items = bulkItems(reply);
  return items.empty() ? "down" : items[0];
}

std::size_t Lab::nodeIndexOfPort(std::uint16_t port) const {
  for (std::size_t i = 0; i < node_ports_.size(); ++i) {
    if (node_ports_[i] == port) return i;
  }
  return node_ports_.size();
}

void Lab::signalNode(std::size_t node, int signo) {
  nodes_[node].signal(signo);
}

void Lab::signalSentinel(std::size_t sentinel, int signo) {
  sentinels_[sentinel].signal(signo);
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
  nodes_[node].stop(SIGKILL, 5000);
}

void Lab::restartNode(std::size_t node) {
  startNode(node);
}

std::string Lab::sentinelFailover() {
  return connectSentinel(0)->call({"SENTINEL", "FAILOVER", options_.master_name});
}

std::unique_ptr<RespClient> Lab::connectNode(std::size_t node,
                                             std::chrono::milliseconds timeout) const {
  return connect(node_ports_[node], options_.redis_password, timeout);
}

std::unique_ptr<RespClient> Lab::connectSentinel(std::size_t sentinel) const {
  return connect(sentinel_ports_[sentinel], options_.sentinel_password);
}

bool Lab::waitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

}  // namespace rhp::test
