#include "health/write_lease.h"

#include <gtest/gtest.h>

namespace rhp::health {
namespace {

using std::chrono::milliseconds;

TEST(WriteLease, NoWritesUntilAMajorityHasAnswered) {
  WriteLease lease(milliseconds(500));
  lease.setKnown(3);
  const auto t0 = WriteLease::Clock::now();
  EXPECT_FALSE(lease.validUntil());
  lease.answered(0, t0);
  EXPECT_FALSE(lease.validUntil());
  lease.answered(2, t0 + milliseconds(10));
  ASSERT_TRUE(lease.validUntil());
  // The older of the two answers bounds the lease.
  EXPECT_EQ(*lease.validUntil(), t0 + milliseconds(500));
}

TEST(WriteLease, RunsFromTheMajorityThFreshestAnswer) {
  WriteLease lease(milliseconds(500));
  lease.setKnown(3);
  const auto t0 = WriteLease::Clock::now();
  lease.answered(0, t0);
  lease.answered(1, t0);
  lease.answered(2, t0);
  // Two sentinels keep answering; the third went silent: still a majority.
  lease.answered(0, t0 + milliseconds(300));
  lease.answered(1, t0 + milliseconds(200));
  EXPECT_EQ(*lease.validUntil(), t0 + milliseconds(700));
  // An answer to an older question never moves the lease back.
  lease.answered(1, t0 + milliseconds(100));
  EXPECT_EQ(*lease.validUntil(), t0 + milliseconds(700));
}

TEST(WriteLease, ANewlyDiscoveredSentinelRaisesTheMajority) {
  WriteLease lease(milliseconds(500));
  lease.setKnown(3);
  const auto t0 = WriteLease::Clock::now();
  lease.answered(0, t0);
  lease.answered(1, t0 + milliseconds(100));
  ASSERT_TRUE(lease.validUntil());
  // Four known: a majority is three, and only two have answered.
  lease.setKnown(4);
  EXPECT_FALSE(lease.validUntil());
  lease.answered(3, t0 + milliseconds(200));
  EXPECT_EQ(*lease.validUntil(), t0 + milliseconds(500));
}

}  // namespace
}  // namespace rhp::health
