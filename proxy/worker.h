#pragma once

#include <uv.h>

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "config/config.h"
#include "health/topology_channel.h"
#include "net/uv_handle.h"
#include "proxy/client_memory_ceiling.h"
#include "proxy/client_session.h"
#include "proxy/flush_list.h"
#include "proxy/hold_queue.h"
#include "proxy/login_cache.h"
#include "proxy/metrics.h"
#include "proxy/node_pool.h"
#include "proxy/nodes_default_user.h"
#include "proxy/proxy_commands.h"
#include "proxy/request_pool.h"
#include "proxy/session_host.h"
#include "proxy/urgent_lane.h"
#include "router/placement.h"
#include "router/route_policy.h"

namespace rhp::proxy {

/* One event loop with its own listening socket (SO_REUSEPORT), its own
 * clients and its own backend connections. Workers share nothing on the
 * request path; they only read the topology snapshot.
 *
 * Defined in two files: worker.cc (the loop, clients, topology changes and
 * draining) and worker_requests.cc (where requests go, the hold queue). */
/* A worker's listening sockets (openListenSockets); -1: that port is off. */
struct ListenFds {
  int plain = -1;
  int tls = -1;
};

class Worker final : public SessionHost, private PoolEvents {
 public:
  Worker(unsigned index, const config::Config& config, health::TopologyChannel& channel,
         ListenFds listen_fds, ClientCounter& clients);
  ~Worker() override;
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  /* Runs the loop on the calling thread until stop() takes effect. */
  void run();
  /* Any thread: close everything now. */
  void stop();
  /* Any thread: stop accepting, close each client once it has no request
   * in flight, and stop when none is left or `timeout` has passed. */
  void drain(std::chrono::milliseconds timeout);
  /* Any thread: the loop has shut down (after stop() or a drain). */
  bool finished() const { return finished_.load(); }
  /* Any thread: the topology channel has a new snapshot. */
  void wake();

  /* Setup, before the threads start: every worker's counters (this one's
   * included) and when the process started, for PROXY INFO. */
  void setPeers(std::vector<const WorkerMetrics*> all,
                std::chrono::steady_clock::time_point started) {
    peers_ = std::move(all);
    started_ = started;
  }
  /* This worker's counters: written on its thread, read by scrapes. */
  const WorkerMetrics& metrics() const { return metrics_; }

  // SessionHost, for the client sessions on this worker's thread.
  /* The startup config, or the last SIGHUP reload's (applied before the
   * next request this worker handles). */
  const config::Config& config() const override { return config_; }
  const commands::AllowList& allowList() const override { return allow_list_; }
  const config::AclUsers& users() const override { return users_; }
  const commands::LearnedCommands* learnedCommands() const override {
    return topology_->learned_commands.get();
  }
  ProxyView proxyView() const override;
  void dispatch(router::Via via, RequestPtr request,
                std::optional<config::Address>& scan_node) override;
  bool fencePasses(router::Fence fence, const std::optional<config::Address>& node) override {
    return fence == router::Fence::None || router::fencePasses(fence, node, nodesView(false));
  }
  std::optional<config::Address> masterForDedicated(ClientSession& session) override;
  void forgetDedicated(ClientSession& session) override;
  void retireConnection(std::unique_ptr<BackendConnection> connection) override {
    retired_connections_.push_back(std::move(connection));
  }
  std::string_view holdFailureError() const override;
  BackendLoginPtr acceptedLogin(std::string_view name, std::string_view password) override {
    return logins_.find(name, password, now(),
                        static_cast<std::uint64_t>(config_.proxy.auth_cache.count()));
  }
  void checkLogin(std::shared_ptr<BackendLogin> login, RequestPtr request) override;
  void loginAccepted(const BackendLoginPtr& login) override { logins_.remember(login, now()); }
  BackendLoginPtr passthroughDefault() const override {
    return config_.proxy.auth == config::AuthMode::Passthrough ? nodes_default_.login() : nullptr;
  }
  void useResp3() override;
  std::uint64_t newClientId() override;
  void scheduleFlush(ClientSession& session) override { client_flush_.add(&session); }
  void noteClientMemory(std::int64_t delta) override { memory_ceiling_.note(delta); }
  void onSessionClosed(ClientSession& session) override;
  uv_loop_t* loop() override { return &loop_; }
  EventClock& clock() override { return clock_; }
  WorkerMetrics& metrics() override { return metrics_; }
  RequestPool& requestPool() override { return requests_; }
  std::vector<char>& readBuffer() override { return read_buffer_; }
  FlushList<BackendConnection>& backendFlushList() override { return backend_flush_; }
  const BackendTls& backendTls() const override { return backend_tls_; }
  void onClientTlsFailure(net::TlsFailure failure, std::string_view reason,
                          std::string_view peer) override;

 private:
  /* The sentinels' write lease holds (health::WriteLease). */
  bool writeLeaseValid() const;
  std::uint64_t now() const { return uv_now(&loop_); }
  void dispatchToMaster(RequestPtr request);
  /* A read, per routing.read_policy: an eligible replica, or the master. */
  /* `earlier`: taken from the hold queue in order, or resent after a
   * replica connection broke: it came before anything its client has held,
   * so it does not wait behind that. */
  void dispatchRead(RequestPtr request, bool earlier = false);
  /* A SCAN-family read. Cursor 0 starts an iteration on the node a read
   * would go to, which is stored in `node`; other cursors go to `node`, or
   * fail if it can no longer serve reads. */
  void dispatchScan(RequestPtr request, bool starts_iteration,
                    std::optional<config::Address>& node);
  /* SCRIPT LOAD/FLUSH: the master answers; each eligible replica gets a copy. */
  void sendUrgent(RequestPtr request);
  void dispatchBroadcast(RequestPtr request);
  /* Opens `fd` as a listener accepting clients of the plain or TLS port. */
  void openListener(net::UvHandle<uv_tcp_t>& listener, int fd);
  int startListening(net::UvHandle<uv_tcp_t>& listener, bool tls);
  void onAccept(uv_stream_t* listener, int status, bool tls);
  void onTopologyChanged();
  void onTick();
  void onStopOrDrain();
  void beginDrain();
  void continueDrain();
  void onLoopTurnEnd();
  void shutdown();
  bool canSendToMaster() const;
  /* canSendToMaster, and the sentinels' write lease holds. */
  bool canWriteToMaster();
  void releaseHeld();
  void moveHeldReadsToReplicas();
  void notifyDedicated();
  void reconcileReplicas();
  void applyConfig();
  config::AclUsers currentUsers() const;
  /* Reads the certificate files again (backend.tls_*, proxy.tls_*). */
  void reloadTls();
  std::uint32_t replicaWeight(const config::Address& address) const;
  /* What router::place*() decide from; `with_replicas` fills the replica
   * choices (reads only: they change with every request). */
  /* `floor`: the reading client's (router::ReadFloor); replicas it does
   * not allow are not usable for this read. */
  router::NodesView nodesView(bool with_replicas, router::ReadFloor* floor = nullptr);
  const health::ReplicationProgress& replicationProgress();
  /* Whether `floor` (a reading client's) limits its reads now, and
   * whether it lets `replica` serve the next one. */
  bool usesFloor(const router::ReadFloor* floor) const;
  bool floorAllows(router::ReadFloor* floor, const NodePool& replica);
  bool waitsBehindOwnHeld(const Request& request, const router::ReadFloor* floor) const;
  /* Carries out a router::Placement. */
  void sendTo(const router::Placement& placement, RequestPtr request);
  NodePool* replicaPool(const config::Address& address);
  void redispatchFromReplica(NodePool& pool, RequestPtr request);
  void holdOrFail(RequestPtr request);
  void retireMaster();
  void retirePool(std::unique_ptr<NodePool> pool);
  void noteHeld() { metrics_.held_requests.set(static_cast<std::int64_t>(hold_.size())); }

  void onPoolReady(NodePool& pool) override;
  void onPoolConnectionLost(NodePool& pool, std::vector<RequestPtr> unsent) override;
  void onRejected(NodePool& pool, RequestPtr request, std::string_view frame) override;
  bool stillOpen(const NodePool& pool) override {
    return pool.role() == NodePool::Role::Replica || (&pool == master_.get() && canWriteToMaster());
  }
  void onMasterReadOnly(RequestPtr request, std::string_view frame);

  // First, so it is destroyed last: every request it handed out (in the
  // hold queue, pools, sessions) goes back to it while the rest is torn down.
  RequestPool requests_;
  unsigned index_;
  /* This worker's own copy: pools and connections refer into it, and only
   * this thread reads or replaces it. */
  config::Config config_;
  std::shared_ptr<const config::Config> reloaded_;  // the channel's config last applied
  /* Before the pools: their connections hold a reference to it. Loaded
   * again on every reload (rotated certificate files). */
  BackendTls backend_tls_;
  /* The TLS port's context, for clients accepted from now on. */
  std::shared_ptr<const net::TlsServerContext> client_tls_;
  /* Passthrough: the nodes' `default` user. Before the pools, whose login
   * checks answer it. */
  NodesDefaultUser nodes_default_{[this] { users_ = currentUsers(); }};
  /* Client TLS failures are logged at most once a second per worker: a
   * scanner or a misconfigured fleet would otherwise write a line each. */
  std::uint64_t tls_failure_logged_ms_ = 0;
  std::uint64_t tls_failures_unlogged_ = 0;
  health::TopologyChannel& channel_;
  ClientCounter& clients_;
  uv_loop_t loop_{};
  net::UvHandle<uv_tcp_t> listener_;      // the plain port (proxy.listen), if on
  net::UvHandle<uv_tcp_t> tls_listener_;  // the TLS port (proxy.tls_listen), if on
  net::UvHandle<uv_async_t> topology_wakeup_;
  net::UvHandle<uv_async_t> stop_wakeup_;
  net::UvHandle<uv_check_t> turn_end_;
  net::UvHandle<uv_timer_t> tick_;
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> drain_requested_{false};
  std::atomic<std::int64_t> drain_timeout_ms_{0};
  std::atomic<bool> finished_{false};
  std::mutex wakeup_mutex_;  // guards topology_wakeup_ and stop_wakeup_ against shutdown
  bool draining_ = false;
  std::uint64_t drain_deadline_ms_ = 0;

  std::shared_ptr<const health::Topology> topology_;
  std::unique_ptr<NodePool> master_;
  struct ReplicaPool {
    std::unique_ptr<NodePool> pool;
    std::uint32_t weight = 1;
    std::int64_t credit = 0;  // smooth weighted round-robin state
  };
  std::vector<ReplicaPool> replicas_;                   // eligible replicas only
  std::vector<router::ReplicaChoice> replica_choices_;  // nodesView's, kept for its capacity
  /* The control thread's latest, loaded at most once per loop time (1 ms):
   * an older one only keeps more reads on the master. */
  std::shared_ptr<const health::ReplicationProgress> progress_;
  std::uint64_t progress_loaded_ms_ = 0;
  std::vector<std::unique_ptr<NodePool>> retired_pools_;
  std::unordered_set<ClientSession*> dedicated_sessions_;
  std::optional<config::Address> dedicated_master_;  // what dedicated sessions were last told
  bool master_suspect_ = false;                      // READONLY seen: hold until the next snapshot
  bool resp3_in_use_ = false;          // a client said HELLO 3: pools keep RESP3 connections too
  std::uint64_t clients_started_ = 0;  // for client ids
  HoldQueue hold_;
  WorkerMetrics metrics_;
  std::vector<const WorkerMetrics*> peers_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  commands::AllowList allow_list_;
  config::AclUsers users_;
  LoginCache logins_;  // passthrough: logins the nodes accepted lately

  SessionMap sessions_;
  std::uint64_t ticks_ = 0;
  ClientMemoryCeiling memory_ceiling_{clients_, index_, metrics_};  // proxy.maxmemory_clients
  std::chrono::steady_clock::time_point readonly_seen_at_{};  // the last -READONLY from master_
  std::vector<std::unique_ptr<ClientSession>> closed_sessions_;
  std::vector<std::unique_ptr<BackendConnection>> retired_connections_;
  UrgentLane urgent_{*this};  // SCRIPT KILL, FUNCTION KILL: past everything else
  FlushList<ClientSession> client_flush_;
  FlushList<BackendConnection> backend_flush_;
  EventClock clock_;
  std::vector<char> read_buffer_ = std::vector<char>(64 * 1024);
};

}  // namespace rhp::proxy
