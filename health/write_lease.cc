#include "health/write_lease.h"

#include <algorithm>
#include <functional>

namespace rhp::health {

void WriteLease::answered(std::size_t index, Clock::time_point asked_at) {
  if (index >= last_answered_.size()) last_answered_.resize(index + 1);
  auto& last = last_answered_[index];
  if (!last || asked_at > *last) last = asked_at;
}

std::optional<WriteLease::Clock::time_point> WriteLease::validUntil() const {
  std::vector<Clock::time_point> answered;
  for (const auto& at : last_answered_) {
    if (at) answered.push_back(*at);
  }
  const std::size_t majority = last_answered_.size() / 2 + 1;
  if (answered.size() < majority) return std::nullopt;
  // The majority-th freshest answer: that many sentinels spoke since then.
  std::nth_element(answered.begin(), answered.begin() + static_cast<std::ptrdiff_t>(majority - 1),
                   answered.end(), std::greater<>());
  return answered[majority - 1] + length_;
}

}  // namespace rhp::health
