#include "health/promotion_probe.h"

#include <stdexcept>
#include <string>
#include <utility>

#include "health/reply_view.h"

namespace rhp::health {

namespace {

constexpr std::chrono::milliseconds kProbeInterval{20};
/* Past any failover-timeout a lab or a deployment uses for one attempt. */
constexpr std::chrono::seconds kWatchLimit{30};

}  // namespace

std::string roleOf(const redisReply* reply) {
  if (reply == nullptr) return "unreachable";
  if (reply->type == REDIS_REPLY_ERROR) return "error \"" + std::string(view(reply)) + "\"";
  if (reply->type == REDIS_REPLY_ARRAY && reply->elements >= 1 && isString(reply->element[0])) {
    return std::string(view(reply->element[0]));
  }
  return "unknown";
}

PromotionProbe::PromotionProbe(uv_loop_t* loop, LinkTo link_to, Promoted promoted)
    : link_to_(std::move(link_to)), promoted_(std::move(promoted)) {
  if (uv_timer_init(loop, timer_.allocate()) != 0) {
    timer_.discardUninitialized();
    throw std::runtime_error("uv_timer_init failed");
  }
  timer_->data = this;
}

void PromotionProbe::watch(const config::Address& candidate) {
  if (stopped_ || (candidate_ && *candidate_ == candidate)) return;
  candidate_ = candidate;
  deadline_ = std::chrono::steady_clock::now() + kWatchLimit;
  uv_timer_start(
      timer_.get(),
      [](uv_timer_t* timer) {
        if (timer->data != nullptr) static_cast<PromotionProbe*>(timer->data)->probe();
      },
      0, static_cast<uint64_t>(kProbeInterval.count()));
}

void PromotionProbe::forget() {
  candidate_.reset();
  if (timer_) uv_timer_stop(timer_.get());
}

void PromotionProbe::stop() {
  stopped_ = true;
  candidate_.reset();
  timer_.reset();
}

void PromotionProbe::probe() {
  if (!candidate_ || std::chrono::steady_clock::now() > deadline_) {
    forget();
    return;
  }
  if (outstanding_) return;
  outstanding_ = true;
  const config::Address candidate = *candidate_;
  link_to_(candidate).command({"ROLE"}, [this, candidate](const redisReply* reply) {
    outstanding_ = false;
    if (stopped_ || !candidate_ || !(*candidate_ == candidate)) return;
    if (roleOf(reply) != "master") return;
    forget();
    promoted_(candidate);
  });
}

}  // namespace rhp::health
