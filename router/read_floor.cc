#include "router/read_floor.h"

namespace rhp::router {

void ReadFloor::submitted() {
  used_ = true;
  ++out_;
  ++unsent_;
}

void ReadFloor::sentToMaster(Send send) {
  used_ = true;
  on_master_ = true;
  if (send == Send::First) ++out_;
  if (send == Send::AfterSubmit && unsent_ > 0) --unsent_;
  bound_.reset();
}

void ReadFloor::sentToReplica(const config::Address& replica, Send send) {
  used_ = true;
  if (send == Send::Again) {
    // A resent read may go where a later request of the connection did
    // not: its answer is only known to be within the master's.
    on_master_ = true;
  } else if (on_master_ || !(replica_ == replica)) {
    on_master_ = false;
    replica_ = replica;  // copied only when the connection moves to another node
  }
  if (send == Send::First) ++out_;
  bound_.reset();
}

void ReadFloor::answered(Clock::time_point at) {
  if (out_ > 0) --out_;
  last_answer_ = at;
  bound_.reset();
}

void ReadFloor::withdrawn() {
  if (out_ > 0) --out_;
  if (unsent_ > 0) --unsent_;
}

void ReadFloor::heardFromMaster(Clock::time_point at) {
  used_ = true;
  on_master_ = true;
  last_answer_ = at;
  bound_.reset();
}

bool ReadFloor::allows(const config::Address& replica,
                       const health::ReplicationProgress& progress) {
  if (!used_) return true;
  if (unsent_ > 0) return false;
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
