#pragma once

#include <cstddef>
#include <cstdint>

#include "config/memory_size.h"

namespace rhp::proxy {

/* Redis's `client-output-buffer-limit pubsub <hard> <soft> <seconds>` for
 * one subscriber: over once its unsent bytes reach the hard limit, or have
 * stayed at or above the soft one for more than the seconds. Redis checks
 * on every write; the proxy on every flush and in its 1 s sweep, so a soft
 * limit trips within a second of Redis's moment. */
class PubSubLimit {
 public:
  bool over(std::size_t unsent, const config::OutputBufferLimit& limit, std::uint64_t now_ms);
  /* Not a subscriber (any more): no soft episode is running. */
  void reset() { soft_since_ms_ = 0; }

 private:
  std::uint64_t soft_since_ms_ = 0;  // over the soft limit since (0: under it)
};

}  // namespace rhp::proxy
