#pragma once

#include <uv.h>

#include <cstdint>

namespace rhp::proxy {

/* Microseconds on the monotonic clock, read once at the start of a loop
 * callback (a client read, a backend read, the end-of-turn flush) and
 * shared by every request stamped during it. A clock read costs about
 * 50 ns on the virtual machines this was measured on; read per request at
 * arrival, send and reply it was 8 % of a pipelined request's CPU. The
 * latency metrics only need the callback's time: everything in one
 * callback happens within microseconds. The write lease is checked against
 * libuv's loop time instead, which libuv refreshes every turn
 * (Worker::writeLeaseValid says why that is safe). One per worker, loop
 * thread only. */
class EventClock {
 public:
  std::uint64_t refresh() { return micros_ = uv_hrtime() / 1000; }
  std::uint64_t micros() const { return micros_; }

 private:
  std::uint64_t micros_ = uv_hrtime() / 1000;
};

}  // namespace rhp::proxy
