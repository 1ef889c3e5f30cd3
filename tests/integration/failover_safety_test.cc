#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "tests/support/lab.h"
#include "tests/support/proxy_process.h"
#include "tests/support/resp_client.h"
#include "tests/support/write_workload.h"

namespace rhp::test {
namespace {

using namespace std::chrono_literals;

constexpr int kWriters = 4;
/* Redis acknowledges a write before its replicas have it. When a master is
 * frozen or killed, the last write each client saw acknowledged may not have
 * reached the replica that gets promoted: that loss belongs to asynchronous
 * replication (only WAIT avoids it), not to the proxy. What the proxy must
 * prevent is a stale master acknowledging writes after the promotion, which
 * over a 5 s pause would be thousands. */
constexpr long kCrashLossBound = kWriters;

std::string describe(const WriteWorkload::Outcome& outcome) {
  std::string text = "acknowledged=" + std::to_string(outcome.acknowledged) +
                     " lost_increments=" + std::to_string(outcome.lost_counter_increments) +
                     " lost_keys=" + std::to_string(outcome.lost_keys) +
                     " longest_gap_ms=" + std::to_string(outcome.longest_gap.count()) +
                     " errors=" + std::to_string(outcome.errors.size());
  for (const auto& key : outcome.lost_key_samples) text += "\n  lost " + key;
  for (const auto& error : outcome.errors) text += "\n  " + error;
  return text;
}

void expectLossAtMost(const WriteWorkload::Outcome& outcome, long bound) {
  EXPECT_LE(outcome.lost_counter_increments, bound) << describe(outcome);
  EXPECT_LE(outcome.lost_keys, bound) << describe(outcome);
}

/* The contract of issue 3, checked against real Sentinel failovers: no
 * acknowledged write is lost, and clients see errors only for requests that
 * were on the wire when a master died. */
class FailoverSafety : public ::testing::Test {
 protected:
  void SetUp() override {
    lab_ = std::make_unique<Lab>();
    proxy_ = std::make_unique<ProxyProcess>(lab_->dir(), lab_->proxyArgs());
    ASSERT_TRUE(proxy_->waitUntilWritable()) << proxy_->log();
  }
  void TearDown() override {
    if (HasFailure() && proxy_) std::cerr << "proxy log:\n" << proxy_->log();
  }

  /* Writes until the old master (node 0) has rejoined as a replica: that is
   * the window in which a stale master could take writes that are lost. */
  void keepWritingUntilOldMasterIsReplica(WriteWorkload& workload) {
    EXPECT_TRUE(Lab::waitUntil([&] { return lab_->role(0) == "slave"; }, 40s))
        << "sentinel never converted the old master";
    const long before = workload.acknowledged();
    EXPECT_TRUE(Lab::waitUntil([&] { return workload.acknowledged() > before + 200; }, 10s));
  }

  std::unique_ptr<Lab> lab_;
  std::unique_ptr<ProxyProcess> proxy_;
};

TEST_F(FailoverSafety, PlannedFailoverLosesNoAcknowledgedWriteAndShowsNoError) {
  WriteWorkload workload(proxy_->port(), kWriters, "planned");
  ASSERT_TRUE(Lab::waitUntil([&] { return workload.acknowledged() > 200; }, 5s));
  ASSERT_EQ(lab_->sentinelFailover(), "+OK\r\n");
  const auto promoted = lab_->waitForNewMaster(0, 30s);
  ASSERT_TRUE(promoted);
  keepWritingUntilOldMasterIsReplica(workload);
  workload.stop();

  // On the master the sentinels name last: see PausedMaster... below.
  const std::size_t last = lab_->sentinelMaster().value_or(*promoted);
  const auto outcome = workload.check(*lab_->connectNode(last, 30s));
  expectLossAtMost(outcome, 0);
  EXPECT_TRUE(outcome.errors.empty()) << describe(outcome);
  EXPECT_NE(proxy_->log().find("failover started, holding writes"), std::string::npos);
}

TEST_F(FailoverSafety, PausedMasterTakesNoWritesAfterThePromotion) {
  WriteWorkload workload(proxy_->port(), kWriters, "paused");
  ASSERT_TRUE(Lab::waitUntil([&] { return workload.acknowledged() > 200; }, 5s));
  lab_->signalNode(0, SIGSTOP);
  const auto paused_at = std::chrono::steady_clock::now();
  const auto promoted = lab_->waitForNewMaster(0, 30s);
  ASSERT_TRUE(promoted);
  std::this_thread::sleep_until(paused_at + 5s);
  // It wakes up still believing it is master, with writes in its socket
  // buffers; Sentinel converts it a moment later.
  lab_->signalNode(0, SIGCONT);
  keepWritingUntilOldMasterIsReplica(workload);
  workload.stop();

  // Under load Sentinel may fail the promoted node over again (3 of 95
  // runs beside an ASan build, 4 to 11 s after the first promotion): the
  // writes are then on the master the sentinels name last, and the node
  // promoted first, now its replica, lacks those acknowledged since (the
  // last 294 of 6756 in one run, where the last master had all of them).
  const std::size_t last = lab_->sentinelMaster().value_or(*promoted);
  const auto outcome = workload.check(*lab_->connectNode(last, 30s));
  expectLossAtMost(outcome, kCrashLossBound);
  // At most the request each writer had on the wire when the master froze.
  EXPECT_LE(outcome.errors.size(), static_cast<std::size_t>(kWriters)) << describe(outcome);
}

TEST_F(FailoverSafety, RestartedOldMasterRejoinsAsReplicaAndGetsNoWrites) {
  WriteWorkload workload(proxy_->port(), kWriters, "restarted");
  ASSERT_TRUE(Lab::waitUntil([&] { return workload.acknowledged() > 200; }, 5s));
  lab_->killNode(0);
  const auto promoted = lab_->waitForNewMaster(0, 30s);
  ASSERT_TRUE(promoted);
  // Its config file still says it is a master: it comes back as one.
  lab_->restartNode(0);
  keepWritingUntilOldMasterIsReplica(workload);
  workload.stop();

  // On a loaded machine Sentinel has been seen to fail the promoted node
  // over again (once, in CI-like load): the writes are then on whichever
  // master the sentinels name last.
  const std::size_t last = lab_->sentinelMaster().value_or(*promoted);
  const auto outcome = workload.check(*lab_->connectNode(last, 30s));
  expectLossAtMost(outcome, kCrashLossBound);
  EXPECT_LE(outcome.errors.size(), static_cast<std::size_t>(kWriters)) << describe(outcome);
  for (const auto& error : outcome.errors) {
    EXPECT_EQ(error.rfind("-ERR connection to the master was lost", 0), 0u) << error;
  }
}

TEST(SentinelMajority, ProxyCutOffFromMostSentinelsRefusesWritesUntilItReachesThemAgain) {
  Lab lab;
  const auto args = lab.proxyArgs("[failover]\nhold_ms = 500\n");
  ProxyProcess proxy(lab.dir(), args);
  ASSERT_TRUE(proxy.waitUntilWritable());
  RespClient client(proxy.port());
  lab.signalSentinel(1, SIGSTOP);
  lab.signalSentinel(2, SIGSTOP);
  const bool refused = Lab::waitUntil(
      [&] {
        const std::string reply = client.call({"SET", "k", "v"});
        return reply.rfind("-MASTERDOWN the proxy cannot reach a majority", 0) == 0;
      },
      10s);
  lab.signalSentinel(1, SIGCONT);
  lab.signalSentinel(2, SIGCONT);
  EXPECT_TRUE(refused);
  if (!refused) std::cerr << proxy.log();
  const bool recovered = Lab::waitUntil(
      [&] {
        return client.call({"SET", "k", "v"}) == "+OK\r\n";
      },
      10s);
  EXPECT_TRUE(recovered);
  if (!recovered) std::cerr << proxy.log();
}

/* A proxy on the minority side of a partition still reaches the master, so
 * only the sentinels' silence tells it anything. Writes must stop before
 * the majority could promote another node: before down-after-milliseconds
 * (1 s here) has passed since the proxy last heard from most sentinels. */
TEST(SentinelMajority, WritesStopBeforeTheMajorityCouldCallTheMasterDown) {
  using Clock = std::chrono::steady_clock;
  Lab lab;
  ASSERT_EQ(lab.options().down_after_ms, 1000);
  const auto args = lab.proxyArgs("[failover]\nhold_ms = 3000\n");
  ProxyProcess proxy(lab.dir(), args);
  ASSERT_TRUE(proxy.waitUntilWritable());
  std::atomic<bool> running{true};
  std::mutex mutex;
  std::vector<Clock::time_point> acknowledged;
  std::thread writer([&] {
    RespClient client(proxy.port(), 10s);
    while (running) {
      if (client.call({"INCR", "lease:counter"}).starts_with(":")) {
        std::lock_guard lock(mutex);
        acknowledged.push_back(Clock::now());
      }
      std::this_thread::sleep_for(1ms);
    }
  });
  std::this_thread::sleep_for(300ms);
  // SIGSTOP: no connection is closed, the sentinels just stop answering,
  // as across a partition.
  const auto cut_at = Clock::now();
  lab.signalSentinel(1, SIGSTOP);
  lab.signalSentinel(2, SIGSTOP);
  std::this_thread::sleep_for(1500ms);
  lab.signalSentinel(1, SIGCONT);
  lab.signalSentinel(2, SIGCONT);
  const auto healed_at = Clock::now();
  ASSERT_TRUE(Lab::waitUntil(
      [&] {
        std::lock_guard lock(mutex);
        return !acknowledged.empty() && acknowledged.back() > healed_at;
      },
      10s))
      << "writes did not resume once the sentinels answered again\n"
      << proxy.log();
  running = false;
  writer.join();

  const auto down_after = cut_at + std::chrono::milliseconds(lab.options().down_after_ms);
  const auto count_between = [&](Clock::time_point from, Clock::time_point to) {
    return std::count_if(acknowledged.begin(), acknowledged.end(),
                         [&](auto at) { return at > from && at < to; });
  };
  EXPECT_GT(count_between(cut_at - 300ms, cut_at), 0);
  EXPECT_EQ(count_between(down_after, healed_at), 0) << proxy.log();
  EXPECT_NE(proxy.log().find("writes paused: no answer from a majority"), std::string::npos);
}

/* A transaction's own master connection obeys the write lease too: EXEC
 * waits while most sentinels are silent and runs once they answer again. */
TEST(SentinelMajority, TransactionsWaitForTheWriteLease) {
  Lab lab;
  const auto args = lab.proxyArgs("[failover]\nhold_ms = 5000\n");
  ProxyProcess proxy(lab.dir(), args);
  ASSERT_TRUE(proxy.waitUntilWritable());
  RespClient transaction(proxy.port(), 300ms);
  ASSERT_EQ(transaction.call({"MULTI"}), "+OK\r\n");
  ASSERT_EQ(transaction.call({"INCR", "lease:tx"}), "+QUEUED\r\n");
  lab.signalSentinel(1, SIGSTOP);
  lab.signalSentinel(2, SIGSTOP);
  const bool paused = Lab::waitUntil(
      [&] { return proxy.countInLog("writes paused: no answer from a majority") > 0; }, 3s);
  transaction.sendRaw(RespClient::encode({"EXEC"}));
  const auto while_paused = transaction.readReply();
  lab.signalSentinel(1, SIGCONT);
  lab.signalSentinel(2, SIGCONT);
  ASSERT_TRUE(paused) << proxy.log();
  EXPECT_FALSE(while_paused) << "EXEC ran without the lease: " << *while_paused;
  std::optional<std::string> after;
  for (int i = 0; i < 20 && !after; ++i) after = transaction.readReply();
  EXPECT_EQ(after.value_or("<no reply>"), "*1\r\n:1\r\n") << proxy.log();
}

/* A reload that turns require_sentinel_majority off lets writes through at
 * once, while most sentinels are still silent; turning it back on stops
 * them again. */
TEST(SentinelMajority, AReloadCanTurnTheMajorityRuleOffAndOn) {
  Lab lab;
  const std::string path = lab.dir() + "/majority.toml";
  std::ofstream(path) << "[failover]\nhold_ms = 300\n";
  auto args = lab.proxyArgs();
  args.insert(args.end(), {"--config", path});
  ProxyProcess proxy(lab.dir(), args);
  ASSERT_TRUE(proxy.waitUntilWritable()) << proxy.log();
  RespClient client(proxy.port());
  lab.signalSentinel(1, SIGSTOP);
  lab.signalSentinel(2, SIGSTOP);
  const bool refused = Lab::waitUntil(
      [&] {
        return client.call({"SET", "majority:k", "1"})
            .starts_with("-MASTERDOWN the proxy cannot reach a majority");
      },
      10s);

  std::ofstream(path) << "[failover]\nhold_ms = 300\n"
                         "[sentinel]\nrequire_sentinel_majority = false\n";
  proxy.signal(SIGHUP);
  const bool accepted = Lab::waitUntil(
      [&] {
        return client.call({"SET", "majority:k", "2"}) == "+OK\r\n";
      },
      5s);

  std::ofstream(path) << "[failover]\nhold_ms = 300\n";
  proxy.signal(SIGHUP);
  // The signal is handled asynchronously: a write sent before the reload
  // took effect may still succeed, one sent after it must not.
  const bool reloaded = Lab::waitUntil(
      [&] {
        return proxy.countInLog("reload: sentinel.require_sentinel_majority: false -> true") > 0;
      },
      5s);
  const bool refused_again = client.call({"SET", "majority:k", "3"})
                                 .starts_with("-MASTERDOWN the proxy cannot reach a majority");
  lab.signalSentinel(1, SIGCONT);
  lab.signalSentinel(2, SIGCONT);
  EXPECT_TRUE(refused) << proxy.log();
  EXPECT_TRUE(accepted) << "writes still refused with the rule off\n" << proxy.log();
  ASSERT_TRUE(reloaded) << proxy.log();
  EXPECT_TRUE(refused_again) << "writes went on with the rule back on\n" << proxy.log();
  EXPECT_EQ(lab.connectNode(*lab.sentinelMaster())->call({"GET", "majority:k"}), "$1\r\n2\r\n");
}

/* A read that fell back to the master (no replica was in sync) waits with
 * the writes while the write lease is lapsed. Once a replica catches up it
 * is answered there, without waiting for the sentinels. */
TEST(SentinelMajority, HeldReadsGoToAReplicaOnceOneCatchesUp) {
  Lab lab;
  ProxyProcess proxy(lab.dir(), lab.proxyArgs("[failover]\nhold_ms = 8000\n"
                                              "[routing]\nmax_replica_lag_ms = 200\n"));
  ASSERT_TRUE(proxy.waitUntilWritable()) << proxy.log();
  ASSERT_TRUE(proxy.waitForEligibleReplicas(2)) << proxy.log();
  RespClient writer(proxy.port());
  ASSERT_EQ(writer.call({"SET", "held:k", "v"}), "+OK\r\n");
  ASSERT_EQ(writer.call({"WAIT", "2", "2000"}), ":2\r\n");
  const std::size_t master = *lab.sentinelMaster();
  std::vector<std::unique_ptr<RespClient>> replicas;
  for (std::size_t node = 0; node < lab.nodeCount(); ++node) {
    if (node == master) continue;
    replicas.push_back(lab.connectNode(node));
    // Stops applying the replication stream, still answers (see Routing).
    ASSERT_EQ(replicas.back()->call({"CLIENT", "PAUSE", "20000", "WRITE"}), "+OK\r\n");
  }
  const std::size_t lagging_before = proxy.countInLog("reason=\"lags");
  ASSERT_TRUE(Lab::waitUntil(
      [&] {
        writer.call({"INCR", "held:lag"});
        return proxy.countInLog("reason=\"lags") >= lagging_before + 2;
      },
      5s))
      << proxy.log();

  lab.signalSentinel(1, SIGSTOP);
  lab.signalSentinel(2, SIGSTOP);
  const bool paused = Lab::waitUntil(
      [&] { return proxy.countInLog("writes paused: no answer from a majority") > 0; }, 3s);
  RespClient reader(proxy.port(), 10s);
  reader.sendRaw(RespClient::encode({"GET", "held:k"}));
  std::this_thread::sleep_for(300ms);
  for (auto& replica : replicas) replica->call({"CLIENT", "UNPAUSE"});
  const auto unpaused = std::chrono::steady_clock::now();
  const auto answer = reader.readReply();
  const auto waited = std::chrono::steady_clock::now() - unpaused;
  lab.signalSentinel(1, SIGCONT);
  lab.signalSentinel(2, SIGCONT);
  ASSERT_TRUE(paused) << proxy.log();
  EXPECT_EQ(answer.value_or("<no reply>"), "$1\r\nv\r\n") << proxy.log();
  EXPECT_LT(waited, 3s) << "the read waited for the sentinels, not for a replica";
}

}  // namespace
}  // namespace rhp::test
