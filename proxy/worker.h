#pragma once

#include <uv.h>

#include <atomic>
#include <memory>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "health/topology_channel.h"
#include "net/uv_handle.h"
#include "proxy/client_session.h"
#include "proxy/flush_list.h"
#include "proxy/hold_queue.h"
#include "proxy/node_pool.h"

namespace rhp::proxy {

/* Shared by all workers: the max-clients limit counts every client. */
struct ClientCounter {
  std::atomic<std::uint32_t> open{0};
  std::uint32_t max = 0;
};

/* One event loop with its own listening socket (SO_REUSEPORT), its own
 * clients and its own backend connections. Workers share nothing on the
 * request path; they only read the topology snapshot. */
class Worker final : private PoolEvents {
 public:
  Worker(unsigned index, const config::Config& config, health::TopologyChannel& channel,
         int listen_fd, ClientCounter& clients);
  ~Worker() override;
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  /* Runs the loop on the calling thread until stop() takes effect. */
  void run();
  /* Any thread. */
  void stop();
  /* Any thread: the topology channel has a new snapshot. */
  void wake();

  // For client sessions, on this worker's thread.
  const config::Config& config() const { return config_; }
  std::vector<char>& readBuffer() { return read_buffer_; }
  void dispatchToMaster(RequestPtr request);
  void scheduleFlush(ClientSession& session) { client_flush_.add(&session); }
  void onSessionClosed(ClientSession& session);

 private:
  void onAccept(int status);
  void onTopologyChanged();
  void onTick();
  void onLoopTurnEnd();
  void shutdown();
  bool canSendToMaster() const;
  void releaseHeld();
  void holdOrFail(RequestPtr request);
  std::string_view holdFailureError() const;
  void retireMaster();

  void onPoolReady(NodePool& pool) override;
  void onPoolConnectionLost(NodePool& pool, std::vector<RequestPtr> unsent) override;
  void onReadOnly(NodePool& pool, RequestPtr request) override;

  unsigned index_;
  const config::Config& config_;
  health::TopologyChannel& channel_;
  ClientCounter& clients_;
  uv_loop_t loop_{};
  net::UvHandle<uv_tcp_t> listener_;
  net::UvHandle<uv_async_t> topology_wakeup_;
  net::UvHandle<uv_async_t> stop_wakeup_;
  net::UvHandle<uv_check_t> turn_end_;
  net::UvHandle<uv_timer_t> tick_;
  std::atomic<bool> stop_requested_{false};

  std::shared_ptr<const health::Topology> topology_;
  std::unique_ptr<NodePool> master_;
  std::vector<std::unique_ptr<NodePool>> retired_pools_;
  bool master_suspect_ = false;  // READONLY seen: hold until the next snapshot
  HoldQueue hold_;

  std::unordered_map<ClientSession*, std::unique_ptr<ClientSession>> sessions_;
  std::vector<std::unique_ptr<ClientSession>> closed_sessions_;
  FlushList<ClientSession> client_flush_;
  FlushList<BackendConnection> backend_flush_;
  std::vector<char> read_buffer_ = std::vector<char>(64 * 1024);
};

}  // namespace rhp::proxy
