#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <utility>

#include "config/config.h"
#include "proxy/client_session.h"
#include "proxy/metrics.h"

namespace rhp::proxy {

/* Shared by all workers: proxy.max_clients counts every client, and
 * proxy.maxmemory_clients every client's memory. */
struct ClientCounter {
  std::atomic<std::uint32_t> open{0};
  std::atomic<std::uint32_t> max{0};  // proxy.max_clients; a reload may change it
  std::atomic<std::int64_t> memory{0};
  /* Each worker's largest client (memoryUsage) when it last looked, so that
   * only the worker holding the largest one closes it. */
  std::array<std::atomic<std::uint64_t>, config::kMaxWorkers> largest{};
};

using SessionMap = std::unordered_map<ClientSession*, std::unique_ptr<ClientSession>>;

/* proxy.maxmemory_clients, for one worker's clients. The worker adds its
 * clients' memory to the shared total once per loop turn, not per change
 * (the total is one cache line for every worker), and says each second
 * how much its largest client holds. Over the ceiling, a worker closes its
 * largest client only if no other worker holds a larger one, and one at a
 * time: the next is chosen after every worker has looked again, so it is
 * the largest of all. */
class ClientMemoryCeiling {
 public:
  ClientMemoryCeiling(ClientCounter& clients, unsigned worker, WorkerMetrics& metrics)
      : clients_(clients), worker_(worker), metrics_(metrics) {}

  /* A session's memoryUsage changed by `delta` bytes. */
  void note(std::int64_t delta) { memory_ += delta; }
  /* Adds this worker's change to the shared total; true if it grew. */
  bool publish();
  bool over(std::uint64_t ceiling) const;
  /* This worker's largest client, also told to the other workers. */
  std::pair<ClientSession*, std::size_t> publishLargest(const SessionMap& sessions);
  /* Over `ceiling` (0: none), closes the largest client if this worker
   * holds the largest of all. */
  void enforce(std::uint64_t ceiling, const SessionMap& sessions);

 private:
  ClientCounter& clients_;
  unsigned worker_;
  WorkerMetrics& metrics_;
  std::int64_t memory_ = 0;     // this worker's clients' memoryUsage
  std::int64_t published_ = 0;  // the part added to clients_.memory
};

}  // namespace rhp::proxy
