#include "health/lease_keeper.h"
#include "health/health_log.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

namespace rhp::health {

namespace {

/* The write lease before any sentinel has said what its down-after is:
 * short, so it is safe for any sensible down-after. */
constexpr std::chrono::milliseconds kInitialWriteLease{500};
constexpr std::chrono::milliseconds kShortestHeartbeat{20};

}  // namespace

LeaseKeeper::LeaseKeeper(uv_loop_t* loop, TopologyChannel& channel, const config::Config& config,
                         std::function<std::size_t()> known, Ping ping,
                         std::function<void()> became_valid)
    : channel_(channel),
      config_(config),
      known_(std::move(known)),
      ping_(std::move(ping)),
      became_valid_(std::move(became_valid)),
      lease_(config.sentinel.write_lease.count() > 0 ? config.sentinel.write_lease
                                                     : kInitialWriteLease) {
  if (uv_timer_init(loop, heartbeat_timer_.allocate()) != 0) {
    heartbeat_timer_.discardUninitialized();
    throw std::runtime_error("uv_timer_init failed");
  }
  heartbeat_timer_->data = this;
}

void LeaseKeeper::start() {
  if (!required()) return;
  channel_.setWriteLease({});  // nothing heard from any sentinel yet
  startHeartbeat();
}

void LeaseKeeper::stop() {
  stopped_ = true;
  heartbeat_timer_.reset();
}

void LeaseKeeper::reconfigure(const config::Config& next) {
  const bool had_majority_rule = required();
  const auto had_lease = config_.sentinel.write_lease;
  config_ = next;
  if (!required()) {
    if (had_majority_rule) {
      healthLog()->warn("writes no longer wait for a sentinel majority (reload) group={}",
                        config_.sentinel.master_name);
      uv_timer_stop(heartbeat_timer_.get());
      channel_.setWriteLease(Clock::time_point::max());
      valid_ = true;
      became_valid_();  // wakes workers holding writes for the lease
    }
  } else if (!had_majority_rule || had_lease != config_.sentinel.write_lease) {
    // A fixed lease applies now; back to automatic, the next poll sets it
    // from down-after-milliseconds. Until pings come back (milliseconds),
    // writes wait if the old answers are too old for the new length.
    if (config_.sentinel.write_lease.count() > 0) lease_.setLength(config_.sentinel.write_lease);
    startHeartbeat();
    publish();
  }
}

void LeaseKeeper::startHeartbeat() {
  const auto interval = std::max(kShortestHeartbeat, lease_.length() / 4);
  uv_timer_start(
      heartbeat_timer_.get(),
      [](uv_timer_t* timer) {
        if (timer->data != nullptr) static_cast<LeaseKeeper*>(timer->data)->heartbeat();
      },
      0, static_cast<uint64_t>(interval.count()));
}

/* A PING to every sentinel renews the lease. */
void LeaseKeeper::heartbeat() {
  if (stopped_) return;
  const std::size_t known = known_();
  for (std::size_t i = 0; i < known; ++i) {
    const auto asked_at = Clock::now();
    ping_(i, [this, i, asked_at](bool up) {
      if (!stopped_ && up) answered(i, asked_at);
    });
  }
  publish();
}

void LeaseKeeper::answered(std::size_t index, Clock::time_point asked_at) {
  if (!required()) return;
  lease_.answered(index, asked_at);
  publish();
}

void LeaseKeeper::adjust(std::uint64_t shortest_down_after_ms) {
  if (!required() || config_.sentinel.write_lease.count() > 0 || shortest_down_after_ms == 0) {
    return;
  }
  const std::chrono::milliseconds length(shortest_down_after_ms / 2);
  if (length == lease_.length()) return;
  healthLog()->info(
      "write lease set to half of sentinel down-after-milliseconds lease_ms={} group={}",
      length.count(), config_.sentinel.master_name);
  lease_.setLength(length);
  startHeartbeat();
  publish();
}

void LeaseKeeper::publish() {
  if (!required()) return;
  const std::size_t known = known_();
  lease_.setKnown(known);
  const auto until = lease_.validUntil();
  channel_.setWriteLease(until.value_or(Clock::time_point{}));
  const bool valid = until && *until > Clock::now();
  if (valid == valid_) return;
  valid_ = valid;
  if (valid) {
    healthLog()->info("write lease renewed by a majority of the sentinels group={} lease_ms={}",
                      config_.sentinel.master_name, lease_.length().count());
    // Workers hold writes while it is lapsed; a new snapshot wakes them.
    became_valid_();
  } else {
    healthLog()->warn(
        "writes paused: no answer from a majority of the {} known sentinels for {} ms "
        "(sentinel.write_lease_ms) group={}",
        known, lease_.length().count(), config_.sentinel.master_name);
  }
}

}  // namespace rhp::health
