#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <vector>

#include "config/config.h"
#include "health/replication_progress.h"
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

  /* Any thread: replication offsets, for read-your-writes. Never null. */
  std::shared_ptr<const ReplicationProgress> progress() const { return progress_.load(); }
  /* Control thread, after each INFO replication answer. Wakes nobody:
   * workers read it when a read has to be placed. */
  void publishProgress(ReplicationProgress next) {
    progress_.store(std::make_shared<const ReplicationProgress>(std::move(next)));
  }

  /* Control thread: writes may go to the master until `until`; see
   * WriteLease. Without a call, writes are never paused for it. */
  void setWriteLease(std::chrono::steady_clock::time_point until) {
    write_lease_until_.store(until.time_since_epoch().count(), std::memory_order_relaxed);
  }
  /* Any thread, on every write: one relaxed atomic load. */
  bool writeLeaseValid(std::chrono::steady_clock::time_point now) const {
    return now.time_since_epoch().count() < write_lease_until_.load(std::memory_order_relaxed);
  }

  /* The settings workers run with, replaced by a SIGHUP reload; null until
   * the first reload (workers then keep their startup copy). */
  std::shared_ptr<const config::Config> config() const { return config_.load(); }
  /* Control thread: settings a reload put in force; wakes every subscriber. */
  void publishConfig(config::Config config);

  /* Any thread: a worker saw evidence the topology is stale (master
   * connection refused, READONLY from the master). */
  void requestRediscovery() const;

  /* Setup only, before threads start. `wake` must be thread-safe
   * (uv_async_send); it carries no data, the subscriber re-reads current(). */
  void addSubscriber(std::function<void()> wake) { subscribers_.push_back(std::move(wake)); }
  void setRediscoveryHandler(std::function<void()> handler) { rediscover_ = std::move(handler); }

 private:
  std::atomic<std::shared_ptr<const Topology>> snapshot_;
  std::atomic<std::shared_ptr<const config::Config>> config_;
  std::atomic<std::shared_ptr<const ReplicationProgress>> progress_{
      std::make_shared<const ReplicationProgress>()};
  std::atomic<std::chrono::steady_clock::rep> write_lease_until_{
      std::numeric_limits<std::chrono::steady_clock::rep>::max()};
  std::vector<std::function<void()>> subscribers_;
  std::function<void()> rediscover_;
};

}  // namespace rhp::health
