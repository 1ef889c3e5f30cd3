#include "proxy/pubsub_limit.h"

#include <algorithm>

namespace rhp::proxy {

bool PubSubLimit::over(std::size_t unsent, const config::OutputBufferLimit& limit,
                       std::uint64_t now_ms) {
  bool over = limit.hard > 0 && unsent >= limit.hard;
  if (limit.soft > 0 && unsent >= limit.soft) {
    // As Redis: the first time marks the start; over once it has lasted
    // more than soft_seconds.
    if (soft_since_ms_ == 0) {
      soft_since_ms_ = std::max<std::uint64_t>(now_ms, 1);
    } else if (now_ms - soft_since_ms_ > std::uint64_t{limit.soft_seconds} * 1000) {
      over = true;
    }
  } else {
    soft_since_ms_ = 0;
  }
  return over;
}

}  // namespace rhp::proxy
