#include "router/replica_selector.h"

namespace rhp::router {

namespace {

bool candidate(const ReplicaChoice& choice) {
  return choice.usable && choice.weight > 0 && choice.credit != nullptr;
}

/* outstanding/weight of a < that of b, without division. */
bool lessLoaded(const ReplicaChoice& a, const ReplicaChoice& b) {
  return static_cast<std::uint64_t>(a.outstanding) * b.weight <
         static_cast<std::uint64_t>(b.outstanding) * a.weight;
}

bool equallyLoaded(const ReplicaChoice& a, const ReplicaChoice& b) {
  return !lessLoaded(a, b) && !lessLoaded(b, a);
}

}  // namespace

std::optional<std::size_t> pickReplica(std::span<const ReplicaChoice> choices, Balance balance) {
  const ReplicaChoice* least = nullptr;
  if (balance == Balance::LeastOutstanding) {
    for (const auto& choice : choices) {
      if (candidate(choice) && (least == nullptr || lessLoaded(choice, *least))) least = &choice;
    }
    if (least == nullptr) return std::nullopt;
  }
  // Smooth weighted round-robin among the candidates (all of them, or the
  // least loaded ones): every candidate earns its weight, the richest wins
  // and pays the total back.
  std::int64_t total = 0;
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < choices.size(); ++i) {
    const ReplicaChoice& choice = choices[i];
    if (!candidate(choice) || (least != nullptr && !equallyLoaded(choice, *least))) continue;
    *choice.credit += choice.weight;
    total += choice.weight;
    if (!best || *choice.credit > *choices[*best].credit) best = i;
  }
  if (best) *choices[*best].credit -= total;
  return best;
}

}  // namespace rhp::router
