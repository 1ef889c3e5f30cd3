#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <vector>

namespace rhp::health {

/* How long writes may go on without a fresh word from a majority of the
 * sentinels. A proxy cut off together with the master (the minority side
 * of a partition) keeps reaching the master, so only the silence of the
 * sentinels tells it something is wrong; and Sentinel can promote a replica
 * on the majority side as soon as down-after-milliseconds has passed. So
 * writes are allowed only until `length` (shorter than down-after) after the
 * moment the majority-th freshest sentinel was last asked something it
 * answered: a proxy on the minority side stops writing before the majority
 * can even call the master down, and no write it acknowledges is later
 * thrown away by a promotion. Counted from when the question was asked, not
 * answered, so a slow answer never stretches the lease. */
class WriteLease {
 public:
  using Clock = std::chrono::steady_clock;

  explicit WriteLease(std::chrono::milliseconds length) : length_(length) {}

  void setLength(std::chrono::milliseconds length) { length_ = length; }
  std::chrono::milliseconds length() const { return length_; }
  /* The number of known sentinels; new ones have not answered yet. */
  void setKnown(std::size_t sentinels) { last_answered_.resize(sentinels); }
  /* Sentinel `index` answered a question asked at `asked_at`. */
  void answered(std::size_t index, Clock::time_point asked_at);
  /* Until when writes are allowed; nullopt if a majority never answered. */
  std::optional<Clock::time_point> validUntil() const;

 private:
  std::chrono::milliseconds length_;
  std::vector<std::optional<Clock::time_point>> last_answered_;
};

}  // namespace rhp::health
