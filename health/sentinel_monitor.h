#pragma once

#include <uv.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "health/redis_link.h"
#include "health/topology_channel.h"
#include "net/uv_handle.h"

namespace rhp::health {

/* Decides who the master is, following the Sentinel client guidelines:
 * ask the sentinels in order with SENTINEL get-master-addr-by-name (the one
 * that answers moves to the front), confirm with ROLE on the named node,
 * keep the sentinel list fresh with SENTINEL SENTINELS, subscribe to
 * +switch-master on every known sentinel, and re-poll every
 * sentinel.poll_interval_ms in case an event was missed.
 *
 * Runs on the control thread's loop; publishes through TopologyChannel. */
class SentinelMonitor {
 public:
  SentinelMonitor(uv_loop_t* loop, const config::Config& config, TopologyChannel& channel);
  ~SentinelMonitor();
  SentinelMonitor(const SentinelMonitor&) = delete;
  SentinelMonitor& operator=(const SentinelMonitor&) = delete;

  void start();
  void stop();

  /* Any thread: poll now instead of at the next interval. Coalesced. */
  void requestRediscovery();

 private:
  struct Sentinel {
    config::Address address;
    std::unique_ptr<RedisLink> commands;
    std::unique_ptr<RedisLink> events;
  };

  void poll(const char* trigger);
  void askSentinel(std::size_t index, std::uint64_t cycle);
  void finishCycleWithoutMaster();
  void refreshSentinels(Sentinel& sentinel);
  void addSentinel(const config::Address& address);
  void subscribe(Sentinel& sentinel);
  void onEvent(const config::Address& from, std::string_view channel, std::string_view payload);
  void confirm(const config::Address& candidate, std::string trigger);
  void setConfirmed(const config::Address& master, const std::string& trigger);
  void setStatus(MasterStatus status, const std::string& reason);
  void publish();
  RedisLink& nodeLink(const config::Address& address);
  void schedulePoll(std::chrono::milliseconds delay);

  uv_loop_t* loop_;
  const config::Config& config_;
  TopologyChannel& channel_;
  RedisLink::Options sentinel_options_;
  RedisLink::Options node_options_;
  std::vector<std::unique_ptr<Sentinel>> sentinels_;  // in asking order
  std::vector<std::unique_ptr<RedisLink>> nodes_;     // ROLE probes, one per node
  net::UvHandle<uv_timer_t> poll_timer_;
  net::UvHandle<uv_async_t> wakeup_;
  std::atomic<bool> rediscovery_requested_{false};

  std::uint64_t cycle_ = 0;
  bool cycle_running_ = false;
  bool publish_after_cycle_ = false;
  bool any_sentinel_knew_name_ = false;
  std::optional<config::Address> named_master_;      // what sentinels say now
  std::optional<config::Address> confirmed_master_;  // last node confirmed; current iff Confirmed
  MasterStatus status_ = MasterStatus::Starting;
  std::string status_reason_;
  bool stopped_ = false;
};

}  // namespace rhp::health
