#include "proxy/auth_delay.h"

#include <algorithm>

namespace rhp::proxy {

namespace {
constexpr std::uint64_t kFirstDelayMs = 100;
constexpr std::uint64_t kMaxDelayMs = 2000;
}  // namespace

AuthDelay::AuthDelay(uv_loop_t* loop, std::function<void()> released)
    : loop_(loop), released_(std::move(released)) {}

bool AuthDelay::delay(Slot& slot) {
  const std::uint64_t delay =
      std::min(kMaxDelayMs, kFirstDelayMs << std::min<std::uint32_t>(failures_, 5));
  ++failures_;
  if (!timer_) {
    if (uv_timer_init(loop_, timer_.allocate()) != 0) {
      timer_.discardUninitialized();
      return false;
    }
    timer_->data = this;
  }
  release_at_ms_ = std::max(uv_now(loop_), release_at_ms_) + delay;
  delayed_.push_back({&slot, release_at_ms_});
  if (delayed_.size() == 1) arm();
  return true;
}

void AuthDelay::clear() {
  delayed_.clear();
  timer_.reset();
}

void AuthDelay::arm() {
  const std::uint64_t now = uv_now(loop_);
  const std::uint64_t due = delayed_.front().release_at_ms;
  uv_timer_start(
      timer_.get(),
      [](uv_timer_t* timer) {
        if (timer->data != nullptr) static_cast<AuthDelay*>(timer->data)->onTimer();
      },
      due > now ? due - now : 0, 0);
}

void AuthDelay::onTimer() {
  const std::uint64_t now = uv_now(loop_);
  while (!delayed_.empty() && delayed_.front().release_at_ms <= now) {
    delayed_.front().slot->ready = true;
    delayed_.pop_front();
  }
  if (!delayed_.empty()) arm();
  released_();
}

}  // namespace rhp::proxy
