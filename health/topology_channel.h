#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include "health/topology.h"

namespace rhp::health {

/* The only thing shared between the control thread and the workers.
 * Subscribers and the rediscovery handler are registered before any thread
 * starts and never change afterwards, so only the snapshot pointer is
 * touched concurrently. */
class TopologyChannel {
 public:
  TopologyChannel();

  /* Any thread. */
  std::shared_ptr<const Topology> current() const { return snapshot_.load(); }

  /* Control thread: stores `next` with the following version number and
   * wakes every subscriber. */
  void publish(Topology next);

  /* Any thread: a worker saw evidence the topology is stale (master
   * connection refused, READONLY from the master). */
  void requestRediscovery() const;

  /* Setup only, before threads start. `wake` must be thread-safe
   * (uv_async_send); it carries no data, the subscriber re-reads current(). */
  void addSubscriber(std::function<void()> wake) { subscribers_.push_back(std::move(wake)); }
  void setRediscoveryHandler(std::function<void()> handler) { rediscover_ = std::move(handler); }

 private:
  std::atomic<std::shared_ptr<const Topology>> snapshot_;
  std::vector<std::function<void()>> subscribers_;
  std::function<void()> rediscover_;
};

}  // namespace rhp::health
