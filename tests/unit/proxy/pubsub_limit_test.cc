#include "proxy/pubsub_limit.h"

#include <gtest/gtest.h>

namespace rhp::proxy {
namespace {

constexpr config::OutputBufferLimit kLimit{32 * 1024 * 1024, 8 * 1024 * 1024, 60};

TEST(PubSubLimit, TheHardLimitTripsAtOnce) {
  PubSubLimit limit;
  EXPECT_FALSE(limit.over(kLimit.hard - 1, {kLimit.hard, 0, 0}, 1000));
  EXPECT_TRUE(limit.over(kLimit.hard, {kLimit.hard, 0, 0}, 1000));
}

TEST(PubSubLimit, TheSoftLimitTripsOnlyAfterLastingItsSeconds) {
  PubSubLimit limit;
  EXPECT_FALSE(limit.over(kLimit.soft, kLimit, 1000));    // starts the clock
  EXPECT_FALSE(limit.over(kLimit.soft, kLimit, 61'000));  // exactly 60 s: not more
  EXPECT_TRUE(limit.over(kLimit.soft, kLimit, 61'001));
}

TEST(PubSubLimit, DroppingBelowTheSoftLimitRestartsTheClock) {
  PubSubLimit limit;
  EXPECT_FALSE(limit.over(kLimit.soft, kLimit, 1000));
  EXPECT_FALSE(limit.over(kLimit.soft - 1, kLimit, 30'000));
  EXPECT_FALSE(limit.over(kLimit.soft, kLimit, 40'000));
  EXPECT_FALSE(limit.over(kLimit.soft, kLimit, 61'001));
  EXPECT_TRUE(limit.over(kLimit.soft, kLimit, 100'001));
  limit.reset();
  EXPECT_FALSE(limit.over(kLimit.soft, kLimit, 100'002));
}

TEST(PubSubLimit, ZeroTurnsALimitOff) {
  PubSubLimit limit;
  EXPECT_FALSE(limit.over(1ull << 40, {0, 0, 0}, 1));
  EXPECT_FALSE(limit.over(1ull << 40, {0, 0, 0}, 1'000'000));
}

TEST(PubSubLimit, AClockAtZeroStillStartsTheSoftEpisode) {
  PubSubLimit limit;
  EXPECT_FALSE(limit.over(kLimit.soft, kLimit, 0));
  EXPECT_TRUE(limit.over(kLimit.soft, kLimit, 60'002));
}

}  // namespace
}  // namespace rhp::proxy
