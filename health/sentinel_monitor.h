#pragma once

#include <uv.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "health/command_learner.h"
#include "health/lease_keeper.h"
#include "health/promotion_probe.h"
#include "health/redis_link.h"
#include "health/replica_watcher.h"
#include "health/sentinel_answers.h"
#include "health/sentinel_event.h"
#include "health/topology_channel.h"
#include "health/write_lease.h"
#include "net/uv_handle.h"

namespace rhp::health {

/* Decides which node may take writes, and publishes it through
 * TopologyChannel. Runs on the control thread's loop.
 *
 * Sentinel is the source of truth, read the way the client guidelines ask
 * (SENTINEL get-master-addr-by-name, ROLE on the node, SENTINEL SENTINELS,
 * events on every sentinel, a periodic re-poll) with three additions that
 * make a failover safe for writes:
 *
 *  - Every poll asks all known sentinels at once and believes the answer
 *    with the highest config epoch: a sentinel that has not heard of the
 *    failover yet still names the old master, and must not win.
 *  - Writes are fenced as soon as a failover of our master starts
 *    (+try-failover, or a poll that shows failover_in_progress): the old
 *    master keeps accepting writes until Sentinel converts it, seconds
 *    later, and everything written there in between is lost.
 *  - With sentinel.require_sentinel_majority, writes are accepted only while
 *    a majority of the known sentinels answer: a proxy cut off with the old
 *    master must not write into a partition the others have failed over.
 *    Polls notice that only after a command timeout; the write lease (see
 *    WriteLease), renewed by pings, stops writes before Sentinel on the
 *    other side can promote anyone. */
class SentinelMonitor {
 public:
  SentinelMonitor(uv_loop_t* loop, const config::Config& config, TopologyChannel& channel);
  ~SentinelMonitor();
  SentinelMonitor(const SentinelMonitor&) = delete;
  SentinelMonitor& operator=(const SentinelMonitor&) = delete;

  void start();
  void stop();

  /* A SIGHUP reload's settings: new sentinels are added (one no longer
   * listed stays known, as Sentinel itself keeps a sentinel until SENTINEL
   * RESET, so the majority is not miscounted), timeouts and credentials
   * apply to the links, and the lease, the majority rule, the poll interval
   * and the replica checks follow. `next` comes from config::planReload,
   * which keeps the running master name. */
  void reconfigure(const config::Config& next);

  /* Any thread: poll now instead of at the next interval. Coalesced. */
  void requestRediscovery();

  /* For metrics and PROXY INFO; control thread only. */
  struct SentinelStatus {
    std::string address;
    bool up = false;  // answered the last question the proxy asked it
  };
  struct Stats {
    std::vector<SentinelStatus> sentinels;
    std::uint64_t failovers = 0;       // failovers of our master seen starting (fenced)
    std::uint64_t master_changes = 0;  // the confirmed master moved to another node
    bool write_lease_valid = false;
    MasterStatus status = MasterStatus::Starting;
    TlsFailureCounts sentinel_tls_failures{};  // the links to the sentinels
    TlsFailureCounts node_tls_failures{};      // ROLE, INFO, COMMAND to the nodes
  };
  Stats stats() const;

 private:
  struct Sentinel {
    config::Address address;
    std::unique_ptr<RedisLink> commands;
    std::unique_ptr<RedisLink> events;
    bool ping_outstanding = false;
    bool up = false;  // answered the last question
  };
  /* The master Sentinel's newest configuration names, with its epoch. */
  struct View {
    config::Address master;
    std::uint64_t epoch = 0;
  };

  void poll(const char* trigger);
  void finishPoll();
  void refreshSentinels(Sentinel& sentinel);
  void refreshReplicas(Sentinel& sentinel);
  void addSentinel(const config::Address& address);
  void subscribe(Sentinel& sentinel);
  void onEvent(const config::Address& from, std::string_view channel, std::string_view payload);
  void fence(const std::string& why);
  void adopt(const config::Address& master, std::uint64_t epoch, const std::string& trigger);
  void confirm(const std::string& trigger);
  void setConfirmed(const std::string& trigger,
                    std::chrono::steady_clock::time_point role_asked_at);
  void setStatus(MasterStatus status, const std::string& reason);
  void publish();
  RedisLink& nodeLink(const config::Address& address);
  void schedulePoll(std::chrono::milliseconds delay);
  void linkOptionsFromConfig();
  void ping(std::size_t index, std::function<void(bool up)> answered);

  uv_loop_t* loop_;
  config::Config config_;  // the control thread's copy; reconfigure() replaces it
  TopologyChannel& channel_;
  TlsFailureCounts sentinel_tls_failures_{};  // before the links that count here
  TlsFailureCounts node_tls_failures_{};
  RedisLink::Options sentinel_options_;
  RedisLink::Options node_options_;
  std::vector<std::unique_ptr<Sentinel>> sentinels_;
  /* Before nodes_: a link's destruction answers its pending ROLE, which
   * must find the probe alive. */
  PromotionProbe promotion_;
  std::vector<std::unique_ptr<RedisLink>> nodes_;  // ROLE probes, one per node
  std::unique_ptr<ReplicaWatcher> replicas_;
  CommandLearner commands_;  // the master's COMMAND, for commands newer than the table
  net::UvHandle<uv_timer_t> poll_timer_;
  net::UvHandle<uv_async_t> wakeup_;
  std::atomic<bool> rediscovery_requested_{false};

  std::uint64_t poll_id_ = 0;
  bool poll_running_ = false;
  bool poll_again_ = false;
  bool publish_after_poll_ = false;
  std::vector<SentinelAnswer> answers_;
  std::size_t answers_pending_ = 0;
  WriteLease::Clock::time_point poll_asked_at_;

  LeaseKeeper lease_;

  std::optional<View> view_;
  std::uint64_t newest_epoch_ = 0;  // from +new-epoch events
  /* Every node adopt() and confirm() refuse until a poll clears it: a
   * failover of it started (fence) or the proxy moved away from it. */
  ReplacedMasters replaced_;
  bool fenced_ = false;       // a failover of view_->master is under way
  bool master_busy_ = false;  // the confirmed master answered ROLE with -BUSY

  MasterStatus status_ = MasterStatus::Starting;
  std::uint64_t failovers_ = 0;
  std::uint64_t master_changes_ = 0;
  std::uint64_t status_generation_ = 0;              // bumped on every status change
  std::optional<config::Address> confirmed_master_;  // last node confirmed; current iff Confirmed
  std::chrono::steady_clock::time_point role_asked_at_{};  // of the ROLE that confirmed it
  bool stopped_ = false;
};

}  // namespace rhp::health
