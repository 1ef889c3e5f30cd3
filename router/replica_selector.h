#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "config/config.h"

namespace rhp::router {

using Balance = config::ReplicaBalance;

/* One replica the caller could send a read to. `credit` is the caller's
 * per-replica state for smooth weighted round-robin (start at 0 and keep
 * it with the replica). */
struct ReplicaChoice {
  bool usable = false;  // eligible and connected
  std::uint32_t weight = 1;
  std::size_t outstanding = 0;
  std::int64_t* credit = nullptr;
  const config::Address* address = nullptr;  // for placeScan: the node that issued a cursor
};

/* Picks the replica for the next read: smooth weighted round-robin (each
 * replica gets reads in proportion to its weight, interleaved), or the one
 * with the fewest outstanding requests per unit of weight, ties shared
 * round-robin. Replicas with weight 0 never get reads. */
std::optional<std::size_t> pickReplica(std::span<const ReplicaChoice> choices, Balance balance);

}  // namespace rhp::router
