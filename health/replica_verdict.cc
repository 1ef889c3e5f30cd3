#include "health/replica_verdict.h"

namespace rhp::health {

void OffsetHistory::record(Clock::time_point at, std::uint64_t master_offset) {
  // Only changes matter: the first sample with an offset is when the master
  // first had those bytes.
  if (samples_.empty() || master_offset != samples_.back().offset) {
    samples_.push_back({at, master_offset});
  }
  while (samples_.size() > 1 && at - samples_[1].at > keep_) samples_.pop_front();
}

std::chrono::milliseconds OffsetHistory::lag(std::uint64_t replica_offset,
                                             Clock::time_point now) const {
  for (const auto& sample : samples_) {
    if (sample.offset > replica_offset) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(now - sample.at);
    }
  }
  return std::chrono::milliseconds(0);
}

ReplicaVerdict judgeReplica(const ReplicaObservation& replica, const config::Address& master,
                            MasterProbe master_probe, const OffsetHistory& history,
                            Clock::time_point now, std::chrono::milliseconds max_lag) {
  ReplicaVerdict verdict;
  if (replica.flagged_down_by_sentinel) {
    verdict.reason = "flagged down by sentinel";
  } else if (!replica.answered) {
    verdict.reason = "does not answer";
  } else if (replica.role != "slave") {
    verdict.reason = "reports role " + (replica.role.empty() ? "unknown" : replica.role);
  } else if (!replica.replicating_from || !(*replica.replicating_from == master)) {
    verdict.reason = "replicates from " +
                     (replica.replicating_from ? replica.replicating_from->toString() : "nothing") +
                     ", not from the master " + master.toString();
  } else if (!replica.link_up && master_probe == MasterProbe::Answers) {
    verdict.reason = "master_link_status is down";
  } else if (replica.sync_in_progress) {
    verdict.reason = "full sync in progress";
  } else if (history.empty()) {
    verdict.reason = "master offset not known yet";
  } else {
    verdict.lag = history.lag(replica.offset, now);
    if (verdict.lag > max_lag) {
      verdict.reason = "lags " + std::to_string(verdict.lag.count()) + " ms behind the master";
    } else {
      verdict.eligible = true;
    }
  }
  return verdict;
}

}  // namespace rhp::health
