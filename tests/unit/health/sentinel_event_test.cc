#include "health/sentinel_event.h"

#include <gtest/gtest.h>

namespace rhp::health {
namespace {

using Kind = SentinelEvent::Kind;

TEST(SentinelEvent, ParsesTheFailoverSequenceSentinelPublishes) {
  // Payloads as redis-sentinel 7.0 published them during SENTINEL FAILOVER.
  auto started = parseSentinelEvent("+try-failover", "master app-cache 127.0.0.1 7001");
  ASSERT_TRUE(started);
  EXPECT_EQ(started->kind, Kind::FailoverStarted);
  EXPECT_EQ(started->master_name, "app-cache");
  EXPECT_EQ(started->master->toString(), "127.0.0.1:7001");

  auto selected =
      parseSentinelEvent("+failover-state-send-slaveof-noone",
                         "slave 127.0.0.1:7002 127.0.0.1 7002 @ app-cache 127.0.0.1 7001");
  ASSERT_TRUE(selected);
  EXPECT_EQ(selected->kind, Kind::ReplicaSelected);
  EXPECT_EQ(selected->instance->toString(), "127.0.0.1:7002");
  EXPECT_EQ(selected->master->toString(), "127.0.0.1:7001");

  auto promoted = parseSentinelEvent(
      "+promoted-slave", "slave 127.0.0.1:7002 127.0.0.1 7002 @ app-cache 127.0.0.1 7001");
  ASSERT_TRUE(promoted);
  EXPECT_EQ(promoted->kind, Kind::ReplicaPromoted);
  EXPECT_EQ(promoted->instance->port, 7002);

  auto switched = parseSentinelEvent("+switch-master", "app-cache 127.0.0.1 7001 127.0.0.1 7002");
  ASSERT_TRUE(switched);
  EXPECT_EQ(switched->kind, Kind::MasterSwitched);
  EXPECT_EQ(switched->master->port, 7001);
  EXPECT_EQ(switched->instance->port, 7002);

  auto epoch = parseSentinelEvent("+new-epoch", "12");
  ASSERT_TRUE(epoch);
  EXPECT_EQ(epoch->kind, Kind::NewEpoch);
  EXPECT_EQ(epoch->epoch, 12u);
}

TEST(SentinelEvent, RecognisesDownAbortEndAndConversion) {
  EXPECT_EQ(parseSentinelEvent("+odown", "master app-cache 127.0.0.1 7001 #quorum 2/2")->kind,
            Kind::MasterDown);
  EXPECT_EQ(
      parseSentinelEvent("-failover-abort-not-elected", "master app-cache 127.0.0.1 7001")->kind,
      Kind::FailoverAborted);
  EXPECT_EQ(parseSentinelEvent("+failover-end", "master app-cache 127.0.0.1 7001")->kind,
            Kind::FailoverEnded);
  auto converted = parseSentinelEvent(
      "+convert-to-slave", "slave 127.0.0.1:7001 127.0.0.1 7001 @ app-cache 127.0.0.1 7002");
  ASSERT_TRUE(converted);
  EXPECT_EQ(converted->kind, Kind::ConvertedToReplica);
  EXPECT_EQ(converted->instance->port, 7001);
}

TEST(SentinelEvent, FollowsReplicasGoingDownAndUp) {
  const char* replica = "slave 127.0.0.1:7003 127.0.0.1 7003 @ app-cache 127.0.0.1 7001";
  auto down = parseSentinelEvent("+sdown", replica);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->kind, Kind::ReplicaDown);
  EXPECT_EQ(down->instance->port, 7003);
  EXPECT_EQ(down->master->port, 7001);
  EXPECT_EQ(parseSentinelEvent("-sdown", replica)->kind, Kind::ReplicaUp);
  EXPECT_EQ(parseSentinelEvent("+slave", replica)->kind, Kind::ReplicaAdded);
}

TEST(SentinelEvent, IgnoresWhatItDoesNotUnderstand) {
  EXPECT_FALSE(parseSentinelEvent("+sdown",
                                  "sentinel 0123abcd 127.0.0.1 26383 @ app-cache "
                                  "127.0.0.1 7001"));
  EXPECT_FALSE(parseSentinelEvent("+switch-master", "app-cache 127.0.0.1 7001"));
  EXPECT_FALSE(parseSentinelEvent("+new-epoch", "x"));
  EXPECT_FALSE(parseSentinelEvent("+try-failover", "master"));
  EXPECT_FALSE(parseSentinelEvent("+promoted-slave", "slave a b c d e f g"));
  EXPECT_FALSE(parseSentinelEvent("+tilt", "#tilt mode entered"));
}

}  // namespace
}  // namespace rhp::health
