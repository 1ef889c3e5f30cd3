#pragma once

#include <uv.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "config/config.h"
#include "health/topology_channel.h"
#include "health/write_lease.h"
#include "net/uv_handle.h"

namespace rhp::health {

/* Keeps the write lease (WriteLease) and hands it to the workers through
 * TopologyChannel, under sentinel.require_sentinel_majority. A PING to
 * every sentinel at a quarter of the lease renews it between polls; the
 * poll's own answers renew it too. The lease length is
 * sentinel.write_lease_ms, or, when that is 0, half of the shortest
 * down-after-milliseconds the sentinels report: Sentinel cannot even call
 * the master down before that has passed, so a proxy on the minority side
 * stops writing first. Runs on the control thread's loop. */
class LeaseKeeper {
 public:
  using Clock = WriteLease::Clock;
  /* Asks sentinel `index` a PING now, unless it has not answered the last
   * one (its silence is the point); then `answered(up)` runs once. */
  using Ping = std::function<void(std::size_t index, std::function<void(bool up)> answered)>;

  /* `known` counts the sentinels; `became_valid` runs when the lease comes
   * back after a lapse, to wake workers holding writes. */
  LeaseKeeper(uv_loop_t* loop, TopologyChannel& channel, const config::Config& config,
              std::function<std::size_t()> known, Ping ping, std::function<void()> became_valid);
  LeaseKeeper(const LeaseKeeper&) = delete;
  LeaseKeeper& operator=(const LeaseKeeper&) = delete;

  void start();
  /* A reload's settings: the majority rule on or off, a fixed length. */
  void reconfigure(const config::Config& next);
  void stop();

  /* Sentinel `index` answered a question asked at `asked_at`. */
  void answered(std::size_t index, Clock::time_point asked_at);
  /* The shortest down-after-milliseconds a poll's answers reported (0:
   * none did); sets the automatic length. */
  void adjust(std::uint64_t shortest_down_after_ms);

 private:
  bool required() const { return config_.sentinel.require_sentinel_majority; }
  void startHeartbeat();
  void heartbeat();
  void publish();

  TopologyChannel& channel_;
  config::Config config_;  // the control thread's copy
  std::function<std::size_t()> known_;
  Ping ping_;
  std::function<void()> became_valid_;
  WriteLease lease_;
  net::UvHandle<uv_timer_t> heartbeat_timer_;
  bool valid_ = false;  // as last published
  bool stopped_ = false;
};

}  // namespace rhp::health
