#include "health/replication_progress.h"

#include <algorithm>

namespace rhp::health {

std::optional<std::uint64_t> ReplicationProgress::masterOffsetAfter(Clock::time_point at) const {
  // The earliest such sample is the tightest bound; a later one is still a
  // correct one (offsets only grow), which is all an old `at` gets once its
  // samples have aged out.
  const auto first = std::find_if(master.begin(), master.end(),
                                  [&](const MasterSample& sample) { return sample.asked_at > at; });
  if (first == master.end()) return std::nullopt;
  return first->offset;
}

std::optional<std::uint64_t> ReplicationProgress::replicaOffset(
    const config::Address& replica) const {
  for (const auto& [address, offset] : replicas) {
    if (address == replica) return offset;
  }
  return std::nullopt;
}

}  // namespace rhp::health
