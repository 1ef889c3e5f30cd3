#pragma once

#include <uv.h>

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "config/config.h"
#include "health/redis_link.h"
#include "health/replica_verdict.h"
#include "health/replication_progress.h"
#include "health/topology.h"
#include "net/uv_handle.h"

namespace rhp::health {

/* Keeps the replicas' read eligibility current: Sentinel says which
 * replicas exist and which it considers down; every
 * routing.replica_check_interval_ms the master and each replica are asked
 * INFO replication, each on its own link so a dead node delays no other.
 * Runs on the control thread's loop. */
class ReplicaWatcher {
 public:
  struct Listed {
    config::Address address;
    bool flagged_down = false;  // s_down, o_down or disconnected in SENTINEL REPLICAS
  };
  using ChangeCallback = std::function<void()>;
  /* After every answered INFO replication: the offsets it brought. */
  using ProgressCallback = std::function<void(ReplicationProgress)>;

  ReplicaWatcher(uv_loop_t* loop, const config::Config& config, RedisLink::Options link_options,
                 ChangeCallback on_change, ProgressCallback on_progress = {});
  ~ReplicaWatcher();
  ReplicaWatcher(const ReplicaWatcher&) = delete;
  ReplicaWatcher& operator=(const ReplicaWatcher&) = delete;

  void start();
  void stop();
  /* After the config it refers to changed (a reload): picks up the check
   * interval and lag limit, and the links' new timeouts and credentials. */
  void reconfigure(RedisLink::Options link_options);

  /* The master replicas must follow; nullopt while none is confirmed. */
  void setMaster(const std::optional<config::Address>& master);
  /* Sentinel's latest SENTINEL REPLICAS answer. */
  void setListed(std::vector<Listed> listed);
  /* Sentinel flagged a replica down or up (+sdown/-sdown) before the next poll. */
  void setFlaggedDown(const config::Address& replica, bool down);

  std::vector<ReplicaState> states() const;

 private:
  struct Replica {
    ReplicaObservation observed;
    std::unique_ptr<RedisLink> link;
    bool probe_outstanding = false;
    ReplicaVerdict verdict;
  };

  static std::chrono::milliseconds historyLength(const config::Config& config);
  void tick();
  void probeMaster();
  void probe(Replica& replica);
  void judgeAll();
  void publishProgress();

  uv_loop_t* loop_;
  const config::Config& config_;
  RedisLink::Options link_options_;
  ChangeCallback on_change_;
  ProgressCallback on_progress_;
  net::UvHandle<uv_timer_t> timer_;
  std::optional<config::Address> master_;
  std::unique_ptr<RedisLink> master_link_;
  bool master_probe_outstanding_ = false;
  MasterProbe master_probe_ = MasterProbe::Silent;
  OffsetHistory history_;
  /* The master's offsets with when each was asked, for read-your-writes;
   * a new master starts a new epoch. */
  std::deque<ReplicationProgress::MasterSample> asked_;
  std::uint64_t master_epoch_ = 0;
  std::string master_replid_;  // offsets compare only within one replication history
  std::vector<std::unique_ptr<Replica>> replicas_;
  bool stopped_ = false;
};

}  // namespace rhp::health
