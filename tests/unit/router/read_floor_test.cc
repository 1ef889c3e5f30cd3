#include "router/read_floor.h"

#include <gtest/gtest.h>

namespace rhp::router {
namespace {

using namespace std::chrono_literals;
using Clock = ReadFloor::Clock;

const config::Address kR1{"10.0.0.2", 6379};
const config::Address kR2{"10.0.0.3", 6379};

/* The master's offsets asked at t0+10 ms (1000) and t0+20 ms (1500); the
 * replicas' applied offsets as given. */
health::ReplicationProgress progress(Clock::time_point t0, std::uint64_t r1, std::uint64_t r2) {
  health::ReplicationProgress p;
  p.master_epoch = 1;
  p.master = {{t0 + 10ms, 1000}, {t0 + 20ms, 1500}};
  p.replicas = {{kR1, r1}, {kR2, r2}};
  return p;
}

TEST(ReadFloor, AConnectionThatSentNothingReadsAnywhere) {
  ReadFloor floor;
  health::ReplicationProgress nothing;
  EXPECT_FALSE(floor.needsProgress());
  EXPECT_TRUE(floor.allows(kR1, nothing));
}

TEST(ReadFloor, AWriteInFlightKeepsReadsOnTheMaster) {
  // Pipelined [SET, GET]: the GET is placed before the SET is answered.
  const auto t0 = Clock::now();
  ReadFloor floor;
  floor.sentToMaster(ReadFloor::Send::First);
  EXPECT_FALSE(floor.allows(kR1, progress(t0, 5000, 5000)));
}

TEST(ReadFloor, AfterAWriteOnlyAReplicaWithTheMastersLaterOffsetQualifies) {
  const auto t0 = Clock::now();
  ReadFloor floor;
  floor.sentToMaster(ReadFloor::Send::First);
  floor.answered(t0 + 15ms);
  // No sample asked after the answer yet: nothing bounds the write.
  health::ReplicationProgress early = progress(t0, 5000, 5000);
  early.master.pop_back();
  EXPECT_FALSE(floor.allows(kR1, early));
  // The sample asked at +20 ms says 1500: R1 has 1499, R2 has 1500.
  EXPECT_FALSE(floor.allows(kR1, progress(t0, 1499, 1500)));
  EXPECT_TRUE(floor.allows(kR2, progress(t0, 1499, 1500)));
  // A replica the check has not answered for is not known to have it.
  health::ReplicationProgress unknown = progress(t0, 1500, 1500);
  unknown.replicas.pop_back();
  EXPECT_FALSE(floor.allows(kR2, unknown));
}

TEST(ReadFloor, ReadsStayOnTheReplicaTheyUsedUntilAnotherIsKnownToBeAsFar) {
  const auto t0 = Clock::now();
  ReadFloor floor;
  floor.sentToReplica(kR1, ReadFloor::Send::First);
  // In flight on R1: R1 again, not R2 (it could be behind what R1 returns).
  EXPECT_TRUE(floor.allows(kR1, progress(t0, 0, 9999)));
  EXPECT_FALSE(floor.allows(kR2, progress(t0, 0, 9999)));
  floor.answered(t0 + 5ms);
  // R1's answer holds at most what the master had at +10 ms (1000).
  EXPECT_FALSE(floor.allows(kR2, progress(t0, 0, 999)));
  EXPECT_TRUE(floor.allows(kR2, progress(t0, 0, 1000)));
  EXPECT_TRUE(floor.allows(kR1, progress(t0, 0, 0)));
}

TEST(ReadFloor, AReadOnTheMasterRaisesTheFloorLikeAWrite) {
  const auto t0 = Clock::now();
  ReadFloor floor;
  floor.sentToReplica(kR1, ReadFloor::Send::First);
  floor.answered(t0 + 5ms);
  floor.sentToMaster(ReadFloor::Send::First);
  floor.answered(t0 + 15ms);
  // The replica used before is no longer enough: the master read saw 1500.
  EXPECT_FALSE(floor.allows(kR1, progress(t0, 1400, 0)));
  EXPECT_TRUE(floor.allows(kR1, progress(t0, 1500, 0)));
}

TEST(ReadFloor, ARequestSentAgainIsAnsweredOnce) {
  const auto t0 = Clock::now();
  ReadFloor floor;
  floor.sentToMaster(ReadFloor::Send::First);
  floor.sentToMaster(ReadFloor::Send::Again);  // its connection was lost; the hold sent it again
  floor.answered(t0 + 15ms);
  EXPECT_TRUE(floor.allows(kR2, progress(t0, 0, 1500)));
}

TEST(ReadFloor, ANewMastersOffsetsAreUsedAfterAFailover) {
  const auto t0 = Clock::now();
  ReadFloor floor;
  floor.sentToMaster(ReadFloor::Send::First);
  floor.answered(t0 + 15ms);
  EXPECT_FALSE(floor.allows(kR2, progress(t0, 0, 1400)));
  // The new master (epoch 2) went on from 1200: its first sample bounds
  // what the connection saw of the old one that it kept.
  health::ReplicationProgress after = progress(t0, 0, 1300);
  after.master_epoch = 2;
  after.master = {{t0 + 500ms, 1300}};
  EXPECT_TRUE(floor.allows(kR2, after));
}

TEST(ReadFloor, AHeldWriteKeepsReadsOffReplicasUntilItIsSentOrWithdrawn) {
  const auto t0 = Clock::now();
  ReadFloor floor;
  floor.sentToReplica(kR1, ReadFloor::Send::First);
  floor.answered(t0 + 5ms);
  floor.submitted();  // waits in the hold queue
  EXPECT_FALSE(floor.allows(kR1, progress(t0, 9999, 9999)));
  // The hold expired: the write showed the client nothing, and R1 serves
  // its reads again (the master may be gone: no new samples needed).
  floor.withdrawn();
  EXPECT_TRUE(floor.allows(kR1, progress(t0, 0, 0)));
  // Submitted, then sent: one request, answered once.
  floor.submitted();
  floor.sentToMaster(ReadFloor::Send::AfterSubmit);
  floor.answered(t0 + 15ms);
  EXPECT_FALSE(floor.allows(kR1, progress(t0, 1499, 0)));
  EXPECT_TRUE(floor.allows(kR1, progress(t0, 1500, 0)));
}

TEST(ReadFloor, AReadSentAgainNoLongerTrustsTheReplicaItWentTo) {
  // SCAN 0 on R1, then a write, then the SCAN resent to R1 after its
  // connection broke: R1 must not pass as "the replica last used".
  const auto t0 = Clock::now();
  ReadFloor floor;
  floor.sentToReplica(kR1, ReadFloor::Send::First);
  floor.sentToMaster(ReadFloor::Send::First);
  floor.sentToReplica(kR1, ReadFloor::Send::Again);
  floor.answered(t0 + 12ms);
  floor.answered(t0 + 15ms);
  EXPECT_FALSE(floor.allows(kR1, progress(t0, 1499, 0)));
}

TEST(ReadFloor, AMessageFromTheMasterRaisesTheFloor) {
  const auto t0 = Clock::now();
  ReadFloor floor;
  floor.sentToReplica(kR1, ReadFloor::Send::First);
  floor.answered(t0 + 5ms);
  floor.heardFromMaster(t0 + 15ms);  // a keyspace notification
  EXPECT_FALSE(floor.allows(kR1, progress(t0, 1499, 0)));
  EXPECT_TRUE(floor.allows(kR1, progress(t0, 1500, 0)));
}

}  // namespace
}  // namespace rhp::router
