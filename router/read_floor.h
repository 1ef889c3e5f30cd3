#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "config/address.h"
#include "health/replication_progress.h"

namespace rhp::router {

/* Read-your-writes and monotonic reads for one client connection, as one
 * Redis gives them: a read may go to a replica only if that replica has
 * applied everything the connection saw so far, its own writes and what
 * its earlier reads returned.
 *
 * What the connection saw is bounded by the node that served it: a read
 * from replica R saw R's data, which later reads from R see too (R's
 * offset only grows); anything else, a write or a read on the master
 * included, is within the master's offset when its reply arrived. That is
 * bounded by the first master offset the replica check asked for after
 * the reply (health::ReplicationProgress), and a replica whose applied
 * offset reached that bound has it all. Until such a sample exists (up to
 * one routing.replica_check_interval after the reply) only the master and
 * the replica last used qualify; while a request is in flight, the node it
 * went to is the only replica that does. */
class ReadFloor {
 public:
  using Clock = std::chrono::steady_clock;

  /* How a request reaches a node: its first send, the first send of a
   * write counted at submitted(), or a send once more (after a lost
   * connection; it may land elsewhere). */
  enum class Send { First, AfterSubmit, Again };

  /* A write left the client for the master but is not on a connection
   * yet (it may wait in the hold queue): no replica qualifies meanwhile. */
  void submitted();
  /* A request went to the master or to `replica`. */
  void sentToMaster(Send send);
  void sentToReplica(const config::Address& replica, Send send);
  /* A request sent before was answered at `at`. */
  void answered(Clock::time_point at);
  /* A submitted write was answered without reaching any node (the hold
   * expired): it showed the client nothing. */
  void withdrawn();
  /* The master sent the connection something unasked (a pub/sub message,
   * a keyspace notification) at `at`. */
  void heardFromMaster(Clock::time_point at);

  /* Whether a read may go to `replica` now. Caches the bound it finds. */
  bool allows(const config::Address& replica, const health::ReplicationProgress& progress);

  /* False while allows() is true for every replica without looking at
   * the progress: nothing was sent yet. */
  bool needsProgress() const { return used_; }

 private:
  bool used_ = false;        // some request was sent: the floor is above nothing
  bool on_master_ = false;   // the last request went to the master
  config::Address replica_;  // else the replica it went to
  std::size_t out_ = 0;      // sent or submitted, not yet answered
  std::size_t unsent_ = 0;   // submitted writes not yet on a connection
  Clock::time_point last_answer_{};
  std::optional<std::uint64_t> bound_;  // master offset covering last_answer_
  std::uint64_t bound_epoch_ = 0;
};

}  // namespace rhp::router
