#include "health/lease_keeper.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <set>
#include <thread>
#include <vector>

namespace rhp::health {
namespace {

using namespace std::chrono_literals;

/* Three sentinels on a real loop; the test decides which answer the
 * keeper's PINGs, and when. */
class LeaseKeeperTest : public ::testing::Test {
 protected:
  LeaseKeeperTest() {
    // The keeper logs each lapse and renewal; main() sets the real loggers up.
    if (!spdlog::get("health")) spdlog::create<spdlog::sinks::null_sink_st>("health");
    uv_loop_init(&loop_);
    config_.sentinel.require_sentinel_majority = true;
    config_.sentinel.write_lease = 400ms;  // margins of 100 ms and more: ASan runs it too
  }
  ~LeaseKeeperTest() override {
    keeper_.reset();
    uv_run(&loop_, UV_RUN_NOWAIT);
    uv_loop_close(&loop_);
  }

  void make() {
    keeper_ = std::make_unique<LeaseKeeper>(
        &loop_, channel_, config_, [] { return std::size_t{3}; },
        [this](std::size_t index, std::function<void(bool)> answered) {
          ++pings_;
          if (up_.contains(index)) answered(true);
        },
        [this] { ++became_valid_; });
  }

  void runFor(std::chrono::milliseconds time) {
    const auto end = std::chrono::steady_clock::now() + time;
    while (std::chrono::steady_clock::now() < end) {
      uv_run(&loop_, UV_RUN_NOWAIT);
      std::this_thread::sleep_for(2ms);
    }
  }

  bool valid() const { return channel_.writeLeaseValid(std::chrono::steady_clock::now()); }

  uv_loop_t loop_{};
  config::Config config_;
  TopologyChannel channel_;
  std::set<std::size_t> up_;
  int pings_ = 0;
  int became_valid_ = 0;
  std::unique_ptr<LeaseKeeper> keeper_;
};

TEST_F(LeaseKeeperTest, AMajorityOfAnsweringSentinelsKeepsWritesGoing) {
  up_ = {0, 2};
  make();
  keeper_->start();
  runFor(250ms);
  EXPECT_TRUE(valid());
  EXPECT_EQ(became_valid_, 1);
  EXPECT_GE(pings_, 6);  // every 100 ms (a quarter of the lease), to each
  runFor(600ms);         // longer than the lease: renewed by the pings
  EXPECT_TRUE(valid());
}

TEST_F(LeaseKeeperTest, WritesStopOnceTheMajorityHasBeenSilentForTheLease) {
  up_ = {0, 1};
  make();
  keeper_->start();
  runFor(150ms);
  ASSERT_TRUE(valid());
  up_ = {1};  // one of three is no majority
  runFor(150ms);
  EXPECT_TRUE(valid());  // within the lease of the last majority answer
  runFor(400ms);
  EXPECT_FALSE(valid());
  up_ = {0, 1, 2};
  runFor(250ms);
  EXPECT_TRUE(valid());
  EXPECT_EQ(became_valid_, 2);
}

TEST_F(LeaseKeeperTest, NoAnswerYetMeansNoWrites) {
  make();
  keeper_->start();
  runFor(100ms);
  EXPECT_FALSE(valid());
  EXPECT_EQ(became_valid_, 0);
}

TEST_F(LeaseKeeperTest, TheAutomaticLengthIsHalfTheShortestDownAfter) {
  config_.sentinel.write_lease = 0ms;  // automatic
  up_ = {0, 1, 2};
  make();
  keeper_->start();
  runFor(50ms);
  ASSERT_TRUE(valid());
  keeper_->adjust(2000);  // down-after-milliseconds 2000: the lease is 1 s
  runFor(20ms);           // the heartbeat restarts at once: all answer
  up_.clear();
  runFor(700ms);
  EXPECT_TRUE(valid());  // the 500 ms lease it started with would have lapsed
  runFor(500ms);
  EXPECT_FALSE(valid());
}

TEST_F(LeaseKeeperTest, AReloadCanTurnTheRuleOff) {
  make();
  keeper_->start();
  runFor(50ms);
  ASSERT_FALSE(valid());
  config::Config off = config_;
  off.sentinel.require_sentinel_majority = false;
  keeper_->reconfigure(off);
  EXPECT_TRUE(valid());
  EXPECT_EQ(became_valid_, 1);  // workers holding writes are woken
  const int pings = pings_;
  runFor(100ms);
  EXPECT_EQ(pings_, pings);  // no more heartbeat
}

}  // namespace
}  // namespace rhp::health
