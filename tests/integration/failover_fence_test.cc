#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/lab.h"
#include "tests/support/proxy_process.h"
#include "tests/support/resp_client.h"

namespace rhp::test {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

/* Clients that write only in transactions, as redis-py's pipeline(
 * transaction=True) does: MULTI, SET of a new key, EXEC; half of them WATCH
 * a key first. Every key whose EXEC was acknowledged must be on the master
 * at the end. */
class TransactionWriters {
 public:
  TransactionWriters(std::uint16_t port, int writers) {
    for (int i = 0; i < writers; ++i) {
      threads_.emplace_back([this, port, i] { run(port, i); });
    }
  }
  ~TransactionWriters() { stop(); }

  void stop() {
    running_ = false;
    for (auto& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }
  long acknowledged() const { return acknowledged_.load(); }
  long nilExecs() const { return nil_execs_.load(); }
  std::vector<std::string> keys() const {
    std::lock_guard lock(mutex_);
    return keys_;
  }
  std::vector<std::string> errors() const {
    std::lock_guard lock(mutex_);
    return errors_;
  }

 private:
  void run(std::uint16_t port, int index) {
    auto client = std::make_unique<RespClient>(port);
    const bool watching = index % 2 == 1;
    for (long n = 0; running_; ++n) {
      const std::string key = "fence:" + std::to_string(index) + ":" + std::to_string(n);
      std::string exec;
      std::string reply;
      if (watching && (reply = client->call({"WATCH", "fence:watched:" + std::to_string(index)})) !=
                          "+OK\r\n") {
        exec = "WATCH: " + reply;
      } else if ((reply = client->call({"MULTI"})) != "+OK\r\n") {
        exec = "MULTI: " + reply;
      } else if ((reply = client->call({"SET", key, "1"})) != "+QUEUED\r\n") {
        exec = "SET: " + reply;
      } else {
        exec = client->call({"EXEC"});
      }
      std::lock_guard lock(mutex_);
      if (exec == "*1\r\n+OK\r\n") {
        keys_.push_back(key);
        ++acknowledged_;
      } else if (exec == "*-1\r\n") {  // a WATCH conflict: nothing ran, as Redis says
        ++nil_execs_;
      } else {
        errors_.push_back(exec.substr(0, 120));
        // Start over on a new connection, as a client library resets one
        // after an error it did not expect.
        client = std::make_unique<RespClient>(port);
      }
      std::this_thread::sleep_for(2ms);  // about 2,000 transactions a second in all
    }
  }

  std::atomic<bool> running_{true};
  std::atomic<long> acknowledged_{0};
  std::atomic<long> nil_execs_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> keys_;
  std::vector<std::string> errors_;
  std::vector<std::thread> threads_;
};

/* Issue 11's report: EXEC went to the old master after Sentinel had begun
 * the failover (the dedicated connection skipped the fence plain writes
 * get), was acknowledged, and was thrown away when the old master became a
 * replica. With one fence for every path, no acknowledged EXEC is lost;
 * and with transactions restored on the new master, no client sees an
 * error either: a MULTI held across the switch is replayed there, one with
 * a WATCH gets EXEC's nil reply (which redis-py and every library retry).
 * RHP_FAILOVER_ROUNDS sets the rounds (3 in CI; 20 measured for issue 11). */
TEST(FailoverFence, TransactionsLoseNoAcknowledgedExecAcrossPlannedFailovers) {
  Lab lab;
  ProxyProcess proxy(lab.dir(), lab.proxyArgs());
  ASSERT_TRUE(proxy.waitUntilWritable()) << proxy.log();
  TransactionWriters writers(proxy.port(), 4);
  std::size_t master = 0;
  const char* rounds_text = std::getenv("RHP_FAILOVER_ROUNDS");
  const int rounds = rounds_text != nullptr ? std::atoi(rounds_text) : 3;
  for (int round = 0; round < rounds; ++round) {
    const long before = writers.acknowledged();
    ASSERT_TRUE(Lab::waitUntil([&] { return writers.acknowledged() > before + 100; }, 10s));
    ASSERT_EQ(lab.sentinelFailover(), "+OK\r\n") << "round " << round;
    const auto promoted = lab.waitForNewMaster(master, 30s);
    ASSERT_TRUE(promoted.has_value()) << "round " << round;
    // The window in which a stale master could take an EXEC lasts until
    // Sentinel has turned it into a replica.
    ASSERT_TRUE(Lab::waitUntil([&] { return lab.role(master) == "slave"; }, 40s));
    master = *promoted;
  }
  const long before = writers.acknowledged();
  EXPECT_TRUE(Lab::waitUntil([&] { return writers.acknowledged() > before + 100; }, 10s));
  writers.stop();

  auto node = lab.connectNode(master);
  long lost = 0;
  std::string samples;
  const auto keys = writers.keys();
  for (std::size_t from = 0; from < keys.size(); from += 1000) {
    const std::size_t to = std::min(keys.size(), from + 1000);
    std::string pipeline;
    for (std::size_t i = from; i < to; ++i) pipeline += RespClient::encode({"EXISTS", keys[i]});
    node->sendRaw(pipeline);
    for (std::size_t i = from; i < to; ++i) {
      if (node->readReply().value_or("") != ":1\r\n" && ++lost <= 5) samples += " " + keys[i];
    }
  }
  std::string errors;
  for (const auto& error : writers.errors()) errors += "\n  " + error;
  EXPECT_EQ(lost, 0) << "acknowledged EXECs missing on the new master:" << samples
                     << "\nacknowledged=" << writers.keys().size() << errors;
  EXPECT_GT(writers.keys().size(), 400u);
  EXPECT_TRUE(writers.errors().empty()) << writers.errors().size() << " errors:" << errors;
  std::cerr << "rounds=" << rounds << " acknowledged=" << writers.keys().size()
            << " nil_execs=" << writers.nilExecs() << " errors=" << writers.errors().size() << "\n";
}

/* A transaction part of which reached the old master (its WATCH, or its
 * MULTI) and whose EXEC was held by the fence ran nothing there. Without a
 * WATCH it is replayed whole on the new master (MULTI again, then what the
 * client queued) and EXEC runs it there; with a WATCH it cannot be (the
 * watch means nothing on another node: a silent lost update), so EXEC
 * answers nil as for a touched key. Never half a transaction: SET applied
 * alone because MULTI never reached the new master. */
TEST(FailoverFence, ATransactionStartedOnTheOldMasterIsReplayedOrAnsweredNil) {
  Lab lab;
  ProxyProcess proxy(lab.dir(), lab.proxyArgs("[proxy]\nworkers = 1\n"));
  ASSERT_TRUE(proxy.waitUntilWritable()) << proxy.log();
  RespClient watcher(proxy.port());
  RespClient multi(proxy.port());
  RespClient control(proxy.port());
  ASSERT_EQ(watcher.call({"WATCH", "fence:watched"}), "+OK\r\n");
  ASSERT_EQ(multi.call({"MULTI"}), "+OK\r\n");
  ASSERT_EQ(lab.sentinelFailover(), "+OK\r\n");
  ASSERT_TRUE(Lab::waitUntil(
      [&] {
        return control.call({"PROXY", "INFO"}).find("master_status:confirmed") == std::string::npos;
      },
      5s))
      << "the proxy never saw the failover start";
  // The fence is up: the rest of both transactions waits behind it.
  watcher.sendRaw(RespClient::encode({"MULTI"}) +
                  RespClient::encode({"SET", "fence:watched", "lost-update"}) +
                  RespClient::encode({"EXEC"}));
  multi.sendRaw(RespClient::encode({"SET", "fence:half", "1"}) + RespClient::encode({"EXEC"}));
  const auto promoted = lab.waitForNewMaster(0, 30s);
  ASSERT_TRUE(promoted.has_value());
  std::vector<std::string> watched;
  for (int i = 0; i < 3; ++i) watched.push_back(watcher.readReply().value_or("(none)"));
  EXPECT_EQ(watched, (std::vector<std::string>{"+OK\r\n", "+QUEUED\r\n", "*-1\r\n"}));
  std::vector<std::string> replayed;
  for (int i = 0; i < 2; ++i) replayed.push_back(multi.readReply().value_or("(none)"));
  EXPECT_EQ(replayed, (std::vector<std::string>{"+QUEUED\r\n", "*1\r\n+OK\r\n"}));
  auto node = lab.connectNode(*promoted);
  EXPECT_EQ(node->call({"EXISTS", "fence:watched"}), ":0\r\n");
  EXPECT_EQ(node->call({"GET", "fence:half"}), "$1\r\n1\r\n");
  // Both connections go on working on the new master.
  EXPECT_EQ(watcher.call({"SET", "fence:after", "1"}), "+OK\r\n");
  EXPECT_EQ(multi.call({"MULTI"}), "+OK\r\n");
  EXPECT_EQ(multi.call({"EXEC"}), "*0\r\n");
}

}  // namespace
}  // namespace rhp::test
