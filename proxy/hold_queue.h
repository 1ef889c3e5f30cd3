#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <unordered_map>
#include <vector>

#include "proxy/request.h"

namespace rhp::proxy {

/* Requests for the master while there is no usable master: kept in arrival
 * order, bounded in time (failover.hold_ms) and bytes (hold_max_bytes), and
 * released in order once a master is confirmed. A client therefore sees a
 * failover as a pause, not as an error. */
class HoldQueue {
 public:
  HoldQueue(std::chrono::milliseconds hold, std::uint64_t max_bytes)
      : hold_ms_(static_cast<std::uint64_t>(hold.count())), max_bytes_(max_bytes) {}

  /* A reload's new bounds; requests already held are measured against
   * them from the next expire(). */
  void setLimits(std::chrono::milliseconds hold, std::uint64_t max_bytes) {
    hold_ms_ = static_cast<std::uint64_t>(hold.count());
    max_bytes_ = max_bytes;
  }

  bool empty() const { return queue_.empty(); }
  /* Whether a request `sink`'s client sent waits here. A client that left
   * keeps counting until its requests leave, so a new one at the same
   * address may wait behind them: late, never out of order. */
  bool holds(const ReplySink* sink) const { return held_by_.contains(sink); }
  std::size_t size() const { return queue_.size(); }
  std::uint64_t bytes() const { return bytes_; }

  /* False when holding is off or the byte bound would be crossed; the
   * caller then answers the request with an error. */
  bool hold(RequestPtr& request, std::uint64_t now_ms);

  /* Puts requests that were already on their way back at the front, ahead
   * of everything that arrived after them, keeping their own order and
   * staying behind requests put back earlier (they were sent earlier). */
  void holdAtFront(std::vector<RequestPtr> requests, std::uint64_t now_ms);

  RequestPtr pop();

  /* Removes, in order, the requests `take` accepts; `take` sees every held
   * request once, front to back, and may keep state across calls. */
  template <class Fn>
  std::vector<RequestPtr> takeIf(Fn&& take) {
    std::vector<RequestPtr> taken;
    for (auto it = queue_.begin(); it != queue_.end();) {
      if (!take(**it)) {
        ++it;
        continue;
      }
      bytes_ -= (*it)->payload.size();
      if (static_cast<std::size_t>(it - queue_.begin()) < requeued_) --requeued_;
      uncount(**it);
      taken.push_back(std::move(*it));
      it = queue_.erase(it);
    }
    return taken;
  }

  /* Removes every request held longer than hold_ms and passes it to
   * `expired`. */
  template <class Fn>
  void expire(std::uint64_t now_ms, Fn&& expired) {
    for (auto it = queue_.begin(); it != queue_.end();) {
      if (now_ms - (*it)->held_at_ms >= hold_ms_) {
        bytes_ -= (*it)->payload.size();
        if (static_cast<std::size_t>(it - queue_.begin()) < requeued_) --requeued_;
        uncount(**it);
        RequestPtr request = std::move(*it);
        it = queue_.erase(it);
        expired(std::move(request));
      } else {
        ++it;
      }
    }
  }

 private:
  /* Per client, by the sink it had when held (Request::held_for). */
  void count(Request& request);
  void uncount(Request& request);

  std::uint64_t hold_ms_;
  std::uint64_t max_bytes_;
  std::uint64_t bytes_ = 0;
  std::size_t requeued_ = 0;  // leading entries that were put back
  std::deque<RequestPtr> queue_;
  std::unordered_map<const ReplySink*, std::size_t> held_by_;
};

}  // namespace rhp::proxy
