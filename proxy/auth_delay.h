#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>

#include "net/uv_handle.h"
#include "proxy/request.h"

namespace rhp::proxy {

/* A wrong password is answered after 100 ms, then 200, 400 ... up to 2 s,
 * each after the previous one (pipelined guesses wait in line): one
 * connection tries at most about one password a second once it has failed
 * five times, and proxy.auth_timeout_ms ends it. Redis answers at once; a
 * client with the right password never waits. One per client connection. */
class AuthDelay {
 public:
  /* `released` runs on the loop when answers became ready. */
  AuthDelay(uv_loop_t* loop, std::function<void()> released);
  AuthDelay(const AuthDelay&) = delete;
  AuthDelay& operator=(const AuthDelay&) = delete;

  /* `slot` holds a wrong-password answer; it becomes ready once its delay
   * is over. False if no timer could be made: answer it at once. */
  bool delay(Slot& slot);
  /* The client closed: nothing is released any more. */
  void clear();

 private:
  void arm();
  void onTimer();

  struct Delayed {
    Slot* slot;
    std::uint64_t release_at_ms;
  };
  uv_loop_t* loop_;
  std::function<void()> released_;
  std::deque<Delayed> delayed_;
  net::UvHandle<uv_timer_t> timer_;
  std::uint32_t failures_ = 0;
  std::uint64_t release_at_ms_ = 0;  // of the last answer delayed
};

}  // namespace rhp::proxy
