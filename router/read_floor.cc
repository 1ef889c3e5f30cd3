#include "router/read_floor.h"

namespace rhp::router {

void ReadFloor::sentToMaster(bool again) {
  used_ = true;
  on_master_ = true;
  if (!again) ++out_;
  bound_.reset();
}

void ReadFloor::sentToReplica(const config::Address& replica, bool again) {
  used_ = true;
  if (on_master_ || !(replica_ == replica)) {
    on_master_ = false;
    replica_ = replica;  // copied only when the connection moves to another node
  }
  if (!again) ++out_;
  bound_.reset();
}

void ReadFloor::answered(Clock::time_point at) {
  if (out_ > 0) --out_;
  last_answer_ = at;
  bound_.reset();
}

bool ReadFloor::allows(const config::Address& replica,
                       const health::ReplicationProgress& progress) {
  if (!used_) return true;
  if (!on_master_ && replica_ == replica) return true;
  if (out_ > 0) return false;
  if (!bound_ || bound_epoch_ != progress.master_epoch) {
    // After a failover the new master's samples are all later than the
    // last answer, and its replicas count in its offsets.
    bound_ = progress.masterOffsetAfter(last_answer_);
    bound_epoch_ = progress.master_epoch;
    if (!bound_) return false;
  }
  const std::optional<std::uint64_t> applied = progress.replicaOffset(replica);
  return applied && *applied >= *bound_;
}

}  // namespace rhp::router
