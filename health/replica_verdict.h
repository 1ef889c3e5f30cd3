#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "config/address.h"

namespace rhp::health {

using Clock = std::chrono::steady_clock;

/* The master's replication offset over the last few seconds, to turn a
 * replica's offset into "how long ago did the master have what this replica
 * has", i.e. its lag in time. */
class OffsetHistory {
 public:
  explicit OffsetHistory(std::chrono::milliseconds keep) : keep_(keep) {}

  void record(Clock::time_point at, std::uint64_t master_offset);
  void clear() { samples_.clear(); }
  /* A reload changed the lag limit: samples older than `keep` go with the
   * next record(). */
  void setKeep(std::chrono::milliseconds keep) { keep_ = keep; }
  bool empty() const { return samples_.empty(); }

  /* Zero when the replica has everything the master had at the last sample;
   * otherwise the time since the master first had data the replica lacks
   * (at least the whole kept window if that is older than every sample). */
  std::chrono::milliseconds lag(std::uint64_t replica_offset, Clock::time_point now) const;

 private:
  struct Sample {
    Clock::time_point at;
    std::uint64_t offset;
  };
  std::chrono::milliseconds keep_;
  std::deque<Sample> samples_;
};

/* What the proxy knows of one replica: Sentinel's flags and the replica's
 * own INFO replication. */
struct ReplicaObservation {
  config::Address address;
  bool flagged_down_by_sentinel = false;  // s_down, o_down or disconnected
  bool answered = false;                  // the last INFO replication was answered
  std::string role;                       // "slave" for a replica
  std::optional<config::Address> replicating_from;
  bool link_up = false;  // master_link_status:up
  bool sync_in_progress = false;
  std::uint64_t offset = 0;  // slave_repl_offset
  std::string replid;        // master_replid: the history `offset` counts in
};

struct ReplicaVerdict {
  bool eligible = false;
  std::string reason;  // why not, for logs and PROXY INFO
  std::chrono::milliseconds lag{0};
};

/* Whether the master answered the proxy's last INFO replication probe. */
enum class MasterProbe { Answers, Silent };

/* A replica whose link to the master is down still serves reads while the
 * master is silent too (crashed, paused, cut off): nobody can have written
 * anything newer than what the replica got, and the lag check still drops
 * it if it lacks data the master had. This is what keeps reads flowing
 * through a failover. While the master answers, a broken link means the
 * replica is falling behind a master that moves on, so it gets no reads. */
ReplicaVerdict judgeReplica(const ReplicaObservation& replica, const config::Address& master,
                            MasterProbe master_probe, const OffsetHistory& history,
                            Clock::time_point now, std::chrono::milliseconds max_lag);

}  // namespace rhp::health
