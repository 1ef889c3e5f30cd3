#pragma once

#include <uv.h>

#include "net/uv_handle.h"

namespace rhp::proxy {

/* Says when the process runs out of file descriptors, once per episode,
 * and when it has them again. libuv already keeps a spare descriptor to
 * accept and close a connection it has no room for (the reserve-fd trick
 * nginx and Redis use too), so the listeners never spin; but that is
 * silent, and clients just see their connection close. Once a second the
 * watch opens /dev/null: failing with EMFILE or ENFILE means full. */
class FdWatch {
 public:
  explicit FdWatch(uv_loop_t* loop);
  FdWatch(const FdWatch&) = delete;
  FdWatch& operator=(const FdWatch&) = delete;
  /* Stops watching (before the loop closes). */
  void stop() { timer_.reset(); }

 private:
  void check();

  net::UvHandle<uv_timer_t> timer_;
  bool exhausted_ = false;
};

}  // namespace rhp::proxy
