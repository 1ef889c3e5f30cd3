#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "config/address.h"

namespace rhp::health {

/* How far replication has got, as the replica check last saw it: what the
 * workers need to tell whether a replica already has everything one client
 * connection wrote or read (router::ReadFloor). Published by the control
 * thread after every INFO replication answer, read by the workers. */
struct ReplicationProgress {
  using Clock = std::chrono::steady_clock;

  /* The master's master_repl_offset, and when the question was sent: every
   * write the master had answered before `asked_at` is within `offset`
   * (Redis propagates a write before it writes the reply). */
  struct MasterSample {
    Clock::time_point asked_at;
    std::uint64_t offset = 0;
  };

  /* Counts master changes: offsets are compared only within one master's
   * samples (a promoted replica goes on from its own offset). */
  std::uint64_t master_epoch = 0;
  std::vector<MasterSample> master;  // oldest first; the last ~2 s
  /* Each replica's slave_repl_offset (what it has applied) at its last
   * answered INFO replication. */
  std::vector<std::pair<config::Address, std::uint64_t>> replicas;

  /* The offset of the first sample asked after `at`: at least everything
   * the master had at `at`. None while no sample is that recent. */
  std::optional<std::uint64_t> masterOffsetAfter(Clock::time_point at) const;
  std::optional<std::uint64_t> replicaOffset(const config::Address& replica) const;
};

}  // namespace rhp::health
