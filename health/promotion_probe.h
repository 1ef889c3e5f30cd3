#pragma once

#include <uv.h>

#include <chrono>
#include <functional>
#include <optional>

#include "config/address.h"
#include "health/redis_link.h"
#include "net/uv_handle.h"

namespace rhp::health {

/* Sentinel announces +promoted-slave only after its next INFO of the
 * replica shows role:master, up to a second after REPLICAOF NO ONE. The
 * replica answers ROLE as soon as it obeyed, so asking it directly, every
 * 20 ms, ends the write pause up to a second earlier. Watching stops at
 * the first "master", when the monitor forgets the candidate (the failover
 * ended, was aborted, or another master was adopted), or after 30 s. */
class PromotionProbe {
 public:
  /* The monitor's link to a node (its ROLE probes share one per node). */
  using LinkTo = std::function<RedisLink&(const config::Address&)>;
  using Promoted = std::function<void(const config::Address&)>;

  /* Throws std::runtime_error if its timer cannot be made. */
  PromotionProbe(uv_loop_t* loop, LinkTo link_to, Promoted promoted);
  PromotionProbe(const PromotionProbe&) = delete;
  PromotionProbe& operator=(const PromotionProbe&) = delete;

  /* Sentinel picked `candidate` for promotion. */
  void watch(const config::Address& candidate);
  void forget();
  bool watching() const { return candidate_.has_value(); }
  /* For good: answers still on their way reach no one. */
  void stop();

 private:
  void probe();

  LinkTo link_to_;
  Promoted promoted_;
  net::UvHandle<uv_timer_t> timer_;
  std::optional<config::Address> candidate_;
  std::chrono::steady_clock::time_point deadline_;
  bool outstanding_ = false;  // a ROLE is on its way: no second one
  bool stopped_ = false;
};

/* A ROLE reply's role ("master", "slave", "sentinel"), or what went wrong. */
std::string roleOf(const redisReply* reply);

}  // namespace rhp::health
