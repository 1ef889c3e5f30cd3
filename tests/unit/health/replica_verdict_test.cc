#include "health/replica_verdict.h"

#include <gtest/gtest.h>

namespace rhp::health {
namespace {

using std::chrono::milliseconds;

config::Address address(std::uint16_t port) {
  return config::loopbackAddress(port);
}

ReplicaObservation healthyReplica(std::uint64_t offset) {
  ReplicaObservation replica;
  replica.address = address(7002);
  replica.answered = true;
  replica.role = "slave";
  replica.replicating_from = address(7001);
  replica.link_up = true;
  replica.offset = offset;
  return replica;
}

TEST(OffsetHistory, LagIsTheAgeOfTheOldestDataTheReplicaLacks) {
  OffsetHistory history(milliseconds(5000));
  const auto t0 = Clock::now();
  history.record(t0, 100);
  history.record(t0 + milliseconds(250), 200);
  history.record(t0 + milliseconds(500), 300);
  history.record(t0 + milliseconds(750), 300);  // no new writes
  const auto now = t0 + milliseconds(1000);
  EXPECT_EQ(history.lag(300, now), milliseconds(0));
  EXPECT_EQ(history.lag(350, now), milliseconds(0));
  EXPECT_EQ(history.lag(250, now), milliseconds(500));  // lacks what arrived at t0+500
  EXPECT_EQ(history.lag(150, now), milliseconds(750));
  EXPECT_EQ(history.lag(50, now), milliseconds(1000));
}

TEST(OffsetHistory, ForgetsSamplesOlderThanItsWindow) {
  OffsetHistory history(milliseconds(1000));
  const auto t0 = Clock::now();
  for (int i = 0; i <= 20; ++i) history.record(t0 + milliseconds(250 * i), 100 * (i + 1));
  const auto now = t0 + milliseconds(5000);
  // Offsets from the forgotten past count as "older than the window".
  EXPECT_GE(history.lag(100, now), milliseconds(1000));
  EXPECT_EQ(history.lag(2100, now), milliseconds(0));
}

TEST(ReplicaVerdict, EligibleWhenUpLinkedAndCaughtUp) {
  OffsetHistory history(milliseconds(3000));
  const auto now = Clock::now();
  history.record(now - milliseconds(100), 1000);
  const auto verdict = judgeReplica(healthyReplica(1000), address(7001), MasterProbe::Answers,
                                    history, now, milliseconds(1000));
  EXPECT_TRUE(verdict.eligible) << verdict.reason;
  EXPECT_EQ(verdict.lag, milliseconds(0));
}

TEST(ReplicaVerdict, NamesEachReasonForIneligibility) {
  OffsetHistory history(milliseconds(3000));
  const auto now = Clock::now();
  history.record(now - milliseconds(2000), 1000);
  history.record(now - milliseconds(100), 2000);
  const auto master = address(7001);
  auto judge = [&](const ReplicaObservation& replica) {
    return judgeReplica(replica, master, MasterProbe::Answers, history, now, milliseconds(1000));
  };

  auto down = healthyReplica(2000);
  down.flagged_down_by_sentinel = true;
  EXPECT_EQ(judge(down).reason, "flagged down by sentinel");

  auto silent = healthyReplica(2000);
  silent.answered = false;
  EXPECT_EQ(judge(silent).reason, "does not answer");

  auto promoted = healthyReplica(2000);
  promoted.role = "master";
  EXPECT_EQ(judge(promoted).reason, "reports role master");

  auto elsewhere = healthyReplica(2000);
  elsewhere.replicating_from = address(7003);
  EXPECT_FALSE(judge(elsewhere).eligible);
  EXPECT_NE(judge(elsewhere).reason.find("replicates from 127.0.0.1:7003"), std::string::npos);

  auto unlinked = healthyReplica(2000);
  unlinked.link_up = false;
  EXPECT_EQ(judge(unlinked).reason, "master_link_status is down");

  auto syncing = healthyReplica(2000);
  syncing.sync_in_progress = true;
  EXPECT_EQ(judge(syncing).reason, "full sync in progress");

  // Behind by what the master got 100 ms ago: within the limit.
  const auto slightly_behind = judge(healthyReplica(1500));
  EXPECT_TRUE(slightly_behind.eligible);
  EXPECT_EQ(slightly_behind.lag, milliseconds(100));

  const auto far_behind = judge(healthyReplica(500));
  EXPECT_FALSE(far_behind.eligible);
  EXPECT_EQ(far_behind.lag, milliseconds(2000));
  EXPECT_EQ(far_behind.reason, "lags 2000 ms behind the master");

  OffsetHistory empty(milliseconds(3000));
  EXPECT_EQ(
      judgeReplica(healthyReplica(0), master, MasterProbe::Answers, empty, now, milliseconds(1000))
          .reason,
      "master offset not known yet");
}

TEST(ReplicaVerdict, ABrokenLinkKeepsServingReadsOnlyWhileTheMasterIsSilentToo) {
  OffsetHistory history(milliseconds(3000));
  const auto now = Clock::now();
  history.record(now - milliseconds(2000), 1000);
  history.record(now - milliseconds(600), 2000);  // the master's last answer
  const auto master = address(7001);
  auto judge = [&](const ReplicaObservation& replica, MasterProbe probe) {
    return judgeReplica(replica, master, probe, history, now, milliseconds(1000));
  };
  auto unlinked = healthyReplica(2000);
  unlinked.link_up = false;
  // The master crashed: the replica holds everything it was last seen with.
  const auto crashed = judge(unlinked, MasterProbe::Silent);
  EXPECT_TRUE(crashed.eligible) << crashed.reason;
  EXPECT_EQ(crashed.lag, milliseconds(0));
  // The master is alive and moving on without this replica.
  EXPECT_EQ(judge(unlinked, MasterProbe::Answers).reason, "master_link_status is down");
  // Missing data the master had 600 ms ago: still within the limit...
  auto behind = unlinked;
  behind.offset = 1500;
  EXPECT_TRUE(judge(behind, MasterProbe::Silent).eligible);
  // ...but not data it had 2 s ago, silent master or not.
  behind.offset = 500;
  EXPECT_EQ(judge(behind, MasterProbe::Silent).reason, "lags 2000 ms behind the master");
  // A full sync replaces the data set: never readable, whatever the master does.
  auto syncing = unlinked;
  syncing.sync_in_progress = true;
  EXPECT_EQ(judge(syncing, MasterProbe::Silent).reason, "full sync in progress");
}

}  // namespace
}  // namespace rhp::health
