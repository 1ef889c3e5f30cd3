#include "proxy/worker.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "proxy/proxy_log.h"
#include "router/errors.h"

namespace rhp::proxy {

namespace {

constexpr std::uint64_t kTickMs = 50;

template <class H>
void initOrThrow(int rc, net::UvHandle<H>& handle, const char* what) {
  if (rc != 0) {
    handle.discardUninitialized();
    throw std::runtime_error(std::string(what) + ": " + uv_strerror(rc));
  }
}

}  // namespace

Worker::Worker(unsigned index, const config::Config& config, health::TopologyChannel& channel,
               ListenFds listen_fds, ClientCounter& clients)
    : index_(index),
      config_(config),
      channel_(channel),
      clients_(clients),
      topology_(channel.current()),
      hold_(config.failover.hold, config.failover.hold_max_bytes),
      allow_list_(config.routing.allow_commands),
      users_(currentUsers()) {
  reloadTls();
  if (uv_loop_init(&loop_) != 0) throw std::runtime_error("uv_loop_init failed");
  if (listen_fds.plain >= 0) openListener(listener_, listen_fds.plain);
  if (listen_fds.tls >= 0) openListener(tls_listener_, listen_fds.tls);
  initOrThrow(uv_async_init(&loop_, topology_wakeup_.allocate(),
                            [](uv_async_t* async) {
                              if (async->data != nullptr) {
                                static_cast<Worker*>(async->data)->onTopologyChanged();
                              }
                            }),
              topology_wakeup_, "uv_async_init");
  topology_wakeup_->data = this;
  initOrThrow(uv_async_init(&loop_, stop_wakeup_.allocate(),
                            [](uv_async_t* async) {
                              if (async->data != nullptr)
                                static_cast<Worker*>(async->data)->onStopOrDrain();
                            }),
              stop_wakeup_, "uv_async_init");
  stop_wakeup_->data = this;
  initOrThrow(uv_check_init(&loop_, turn_end_.allocate()), turn_end_, "uv_check_init");
  turn_end_->data = this;
  initOrThrow(uv_timer_init(&loop_, tick_.allocate()), tick_, "uv_timer_init");
  tick_->data = this;
}

Worker::~Worker() {
  // run() closed every handle and drained the loop; only a worker that
  // never ran gets here with live handles.
  if (tick_) shutdown();
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
}

void Worker::openListener(net::UvHandle<uv_tcp_t>& listener, int fd) {
  initOrThrow(uv_tcp_init(&loop_, listener.allocate()), listener, "uv_tcp_init");
  listener->data = this;
  const int rc = uv_tcp_open(listener.get(), fd);
  if (rc != 0) throw std::runtime_error(std::string("uv_tcp_open: ") + uv_strerror(rc));
}

int Worker::startListening(net::UvHandle<uv_tcp_t>& listener, bool tls) {
  if (!listener) return 0;
  auto accept = [](uv_stream_t* server, int status) {
    if (server->data != nullptr)
      static_cast<Worker*>(server->data)->onAccept(server, status, false);
  };
  auto accept_tls = [](uv_stream_t* server, int status) {
    if (server->data != nullptr) static_cast<Worker*>(server->data)->onAccept(server, status, true);
  };
  return uv_listen(listener.stream(), 1024, tls ? +accept_tls : +accept);
}

void Worker::run() {
  int rc = startListening(listener_, false);
  if (rc == 0) rc = startListening(tls_listener_, true);
  if (rc != 0) {
    proxyLog()->error("cannot listen worker={} error={}", index_, uv_strerror(rc));
    shutdown();
  } else {
    uv_check_start(turn_end_.get(), [](uv_check_t* check) {
      if (check->data != nullptr) static_cast<Worker*>(check->data)->onLoopTurnEnd();
    });
    uv_timer_start(
        tick_.get(),
        [](uv_timer_t* timer) {
          if (timer->data != nullptr) static_cast<Worker*>(timer->data)->onTick();
        },
        kTickMs, kTickMs);
    onTopologyChanged();
    onStopOrDrain();
  }
  uv_run(&loop_, UV_RUN_DEFAULT);
}

void Worker::stop() {
  stop_requested_.store(true);
  std::lock_guard lock(wakeup_mutex_);
  if (stop_wakeup_) uv_async_send(stop_wakeup_.get());
}

void Worker::drain(std::chrono::milliseconds timeout) {
  drain_timeout_ms_.store(timeout.count());
  drain_requested_.store(true);
  std::lock_guard lock(wakeup_mutex_);
  if (stop_wakeup_) uv_async_send(stop_wakeup_.get());
}

void Worker::onStopOrDrain() {
  if (stop_requested_.load()) {
    shutdown();
  } else if (drain_requested_.load() && !draining_) {
    beginDrain();
  }
}

void Worker::beginDrain() {
  draining_ = true;
  listener_.reset();
  tls_listener_.reset();
  drain_deadline_ms_ = uv_now(&loop_) + static_cast<std::uint64_t>(drain_timeout_ms_.load());
  proxyLog()->info("draining worker={} clients={} timeout_ms={}", index_, sessions_.size(),
                   drain_timeout_ms_.load());
  continueDrain();
}

/* Every tick while draining: clients with nothing in flight are closed once
 * their replies are out; the rest get until the deadline. */
void Worker::continueDrain() {
  if (!draining_ || !tick_) return;
  std::vector<ClientSession*> idle;
  for (auto& [raw, session] : sessions_) {
    if (session->idleForDrain()) idle.push_back(raw);
  }
  for (ClientSession* session : idle) session->closeAfterReplies();
  if (sessions_.empty() || uv_now(&loop_) >= drain_deadline_ms_) {
    if (!sessions_.empty()) {
      proxyLog()->warn(
          "drain timeout, closing clients with requests in flight worker={} clients={}", index_,
          sessions_.size());
    }
    shutdown();
  }
}

void Worker::wake() {
  // The control thread keeps publishing while a worker drains and after it
  // finished; a worker that is gone is not woken.
  std::lock_guard lock(wakeup_mutex_);
  if (topology_wakeup_) uv_async_send(topology_wakeup_.get());
}

void Worker::shutdown() {
  listener_.reset();
  tls_listener_.reset();
  tick_.reset();
  {
    std::lock_guard lock(wakeup_mutex_);
    topology_wakeup_.reset();
  }
  master_.reset();
  replicas_.clear();
  retired_pools_.clear();
  urgent_.shutdown();
  while (!hold_.empty()) deliverReply(*hold_.pop(), errors::kHoldTimeout);
  auto sessions = std::exchange(sessions_, {});
  for (auto& [raw, session] : sessions) session->close();
  onLoopTurnEnd();
  closed_sessions_.clear();
  sessions.clear();
  retired_connections_.clear();
  turn_end_.reset();
  {
    // Other threads send to the async handles under this lock; once they
    // are gone nothing is sent.
    std::lock_guard lock(wakeup_mutex_);
    stop_wakeup_.reset();
  }
  finished_.store(true);
}

void Worker::onAccept(uv_stream_t* listener, int status, bool tls) {
  if (status != 0) return;
  net::UvHandle<uv_tcp_t> tcp;
  if (uv_tcp_init(&loop_, tcp.allocate()) != 0) {
    tcp.discardUninitialized();
    return;
  }
  if (uv_accept(listener, tcp.stream()) != 0) return;
  if (clients_.open.fetch_add(1) >= clients_.max.load(std::memory_order_relaxed)) {
    clients_.open.fetch_sub(1);
    metrics_.clients_rejected.add();
    // Like redis-server: accept, say why, close.
    uv_buf_t buf = uv_buf_init(const_cast<char*>(errors::kMaxClients.data()),
                               static_cast<unsigned>(errors::kMaxClients.size()));
    uv_try_write(tcp.stream(), &buf, 1);
    return;
  }
  metrics_.clients_accepted.add();
  std::unique_ptr<ClientSession> session;
  try {
    session = std::make_unique<ClientSession>(*this, std::move(tcp), tls ? client_tls_ : nullptr);
  } catch (const std::exception& error) {  // OpenSSL could not make a session
    clients_.open.fetch_sub(1);
    proxyLog()->error("cannot accept a TLS client worker={} error={}", index_, error.what());
    return;
  }
  ClientSession* raw = session.get();
  sessions_.emplace(raw, std::move(session));
  raw->start();
}

void Worker::onSessionClosed(ClientSession& session) {
  client_flush_.remove(&session);
  auto found = sessions_.find(&session);
  if (found == sessions_.end()) return;
  // Freed at the end of the loop turn, not now: the session is usually
  // somewhere up the call stack.
  closed_sessions_.push_back(std::move(found->second));
  sessions_.erase(found);
  clients_.open.fetch_sub(1);
}

void Worker::onLoopTurnEnd() {
  clock_.refresh();  // the writes below: sent_at for backend time, replies for latency
  // A client flush can send requests (a client paused for backpressure
  // resumes once its replies are written): those must leave this turn too,
  // or they would wait for the next I/O event, which may never come.
  do {
    backend_flush_.drain([](BackendConnection* connection) { connection->flush(); });
    client_flush_.drain([](ClientSession* session) { session->flush(); });
  } while (!backend_flush_.empty());
  if (memory_ceiling_.publish()) {
    memory_ceiling_.enforce(config_.proxy.maxmemory_clients, sessions_);
  }
  retired_connections_.clear();
  closed_sessions_.clear();
}

/* Who clients log in as: proxy.users and proxy.password, or (passthrough)
 * the nodes' users, of which the proxy knows `default` only. */
config::AclUsers Worker::currentUsers() const {
  return config_.proxy.auth == config::AuthMode::Passthrough
             ? config::AclUsers::nodesDecide(nodes_default_.nopass(), nodes_default_.refused())
             : config::AclUsers(config_.proxy.password, config_.proxy.users);
}

void Worker::onTick() {
  const std::uint64_t now = uv_now(&loop_);
  if (config_.proxy.auth == config::AuthMode::Passthrough && canSendToMaster()) {
    // At least a second apart: with proxy.auth_cache_ms = 0 not every tick.
    nodes_default_.check(*master_, now,
                         std::max<std::uint64_t>(1000, config_.proxy.auth_cache.count()));
  }
  // Client timeouts are in seconds: a sweep a second is enough (Redis's
  // clientsCron looks at each client about once a second too).
  if (++ticks_ % (1000 / kTickMs) == 0) {
    std::vector<ClientSession*> sessions;
    sessions.reserve(sessions_.size());
    for (auto& [raw, session] : sessions_) sessions.push_back(raw);
    for (ClientSession* session : sessions) {
      if (sessions_.contains(session)) session->checkIdle(now);  // a close erases it
    }
  }
  memory_ceiling_.publish();
  if (config_.proxy.maxmemory_clients > 0) {
    // Every worker says what its largest client holds, so that the worker
    // holding the largest of all is the one that closes it.
    if (ticks_ % (1000 / kTickMs) == 0) memory_ceiling_.publishLargest(sessions_);
    // The largest client may be here though it did not grow.
    memory_ceiling_.enforce(config_.proxy.maxmemory_clients, sessions_);
  }
  if (master_) master_->checkTimeouts(now);
  urgent_.checkTimeout(now);
  for (auto& replica : replicas_) replica.pool->checkTimeouts(now);
  for (auto& pool : retired_pools_) pool->checkTimeouts(now);
  for (ClientSession* session :
       std::vector(dedicated_sessions_.begin(), dedicated_sessions_.end())) {
    if (dedicated_sessions_.contains(session)) session->onTick(now);
  }
  std::erase_if(retired_pools_, [](const auto& pool) { return pool->drained(); });
  releaseHeld();  // the write lease may have been renewed without a new snapshot
  continueDrain();
  if (!tick_) return;  // the drain just ended
  const std::string_view error = holdFailureError();
  hold_.expire(now, [&](RequestPtr request) { deliverReply(*request, error); });
  noteHeld();
}

/* A SIGHUP reload published new settings: they apply from the next
 * request on, for connected clients too. Pools and connections stay; they
 * read their timeouts and credentials from config_, which is replaced in
 * place (member by member, so references into it stay valid). */
void Worker::applyConfig() {
  auto next = channel_.config();
  if (!next || next == reloaded_) return;
  reloaded_ = std::move(next);
  config_ = *reloaded_;
  reloadTls();
  allow_list_ = commands::AllowList(config_.routing.allow_commands);
  users_ = currentUsers();
  for (auto& replica : replicas_) replica.weight = replicaWeight(replica.pool->address());
  hold_.setLimits(config_.failover.hold, config_.failover.hold_max_bytes);
  const ParserLimits limits{config_.proxy.max_bulk_len, config_.proxy.max_array_len};
  for (auto& [raw, session] : sessions_) session->setParserLimits(limits);
  std::vector<ClientSession*> sessions;
  for (auto& [raw, session] : sessions_) sessions.push_back(raw);
  for (ClientSession* session : sessions) {
    if (sessions_.contains(session)) session->onUsersChanged(users_);  // may close it
  }
}

void Worker::reloadTls() {
  std::string error;
  backend_tls_ =
      net::reloadTlsContext(config_.backend.tls.enabled, config_.backend.tls, backend_tls_, error);
  // The control thread loads the same files and says so once; each worker
  // would only repeat it.
  if (!error.empty()) proxyLog()->debug("worker={} backend.tls: {}", index_, error);
  const bool tls_port = config_.proxy.tls_listen.has_value();
  client_tls_ = net::reloadTlsContext(tls_port, config_.proxy.tls, client_tls_, error);
  if (!error.empty()) {
    // Worker 0 says it: every worker loads the same files.
    if (index_ == 0) {
      proxyLog()->error("proxy.tls: cannot load, the previous certificates stay in force: {}",
                        error);
    }
  }
}

void Worker::onClientTlsFailure(net::TlsFailure failure, std::string_view reason,
                                std::string_view peer) {
  metrics_.client_tls_failures[static_cast<std::size_t>(failure)].add();
  const std::uint64_t now = uv_now(&loop_);
  if (tls_failure_logged_ms_ != 0 && now - tls_failure_logged_ms_ < 1000) {
    ++tls_failures_unlogged_;
    return;
  }
  proxyLog()->warn("client TLS failed worker={} client={} reason=\"{}\" not_logged_before={}",
                   index_, peer, reason, std::exchange(tls_failures_unlogged_, 0));
  tls_failure_logged_ms_ = now;
}

std::uint32_t Worker::replicaWeight(const config::Address& address) const {
  for (const auto& weight : config_.routing.replica_weights) {
    if (weight.replica == address) return weight.weight;
  }
  return 1;  // replicas not listed weigh 1
}

void Worker::onTopologyChanged() {
  applyConfig();
  auto next = channel_.current();
  if (next->version == topology_->version && master_) return;
  topology_ = next;
  master_suspect_ = false;
  if (master_ && topology_->master && master_->address() == *topology_->master &&
      topology_->master_role_asked_at > readonly_seen_at_) {
    // The node that answered READONLY is still the master by a ROLE asked
    // after it: the READONLY was an answer (a script's error_reply), not a
    // demotion. In order, ahead of the rest of the hold. A snapshot
    // published for another reason proves nothing: those requests are
    // re-sent, as before.
    for (auto& request :
         hold_.takeIf([](const Request& held) { return !held.readonly_reply.empty(); })) {
      deliverReply(*request, request->readonly_reply);
    }
  }
  if (!topology_->master) {
    retireMaster();
  } else if (!master_ || !(master_->address() == *topology_->master)) {
    retireMaster();
    // A new master exists: whatever older masters still owe us is stale.
    for (auto& pool : retired_pools_) pool->abandon();
    master_ = std::make_unique<NodePool>(
        &loop_, *topology_->master, NodePool::Role::Master, config_.backend, backend_tls_,
        static_cast<PoolEvents&>(*this), backend_flush_, clock_, resp3_in_use_);
    master_->setMetrics(metrics_.node(*topology_->master, NodeRole::Master));
    master_->start();
  }
  reconcileReplicas();
  releaseHeld();
  notifyDedicated();
}

/* One pool per eligible replica; a replica that stops being eligible has
 * its pool retired (reads in flight finish there). */
void Worker::reconcileReplicas() {
  const auto& listed = topology_->replicas;
  auto eligible = [&](const config::Address& address) {
    return std::any_of(listed.begin(), listed.end(), [&](const health::ReplicaState& replica) {
      return replica.eligible && replica.address == address;
    });
  };
  for (auto& replica : replicas_) {
    if (!eligible(replica.pool->address())) {
      retirePool(std::move(replica.pool));
    }
  }
  std::erase_if(replicas_, [](const ReplicaPool& replica) { return !replica.pool; });
  for (const auto& state : listed) {
    if (!state.eligible || replicaPool(state.address) != nullptr) continue;
    ReplicaPool replica;
    replica.pool = std::make_unique<NodePool>(
        &loop_, state.address, NodePool::Role::Replica, config_.backend, backend_tls_,
        static_cast<PoolEvents&>(*this), backend_flush_, clock_, resp3_in_use_);
    replica.weight = replicaWeight(state.address);
    replica.pool->setMetrics(metrics_.node(state.address, NodeRole::Replica));
    replica.pool->start();
    replicas_.push_back(std::move(replica));
  }
}

void Worker::useResp3() {
  if (resp3_in_use_) return;
  resp3_in_use_ = true;
  if (master_) master_->enableResp3();
  for (auto& replica : replicas_) replica.pool->enableResp3();
}

std::uint64_t Worker::newClientId() {
  // Unique across workers: the low byte is the worker's index.
  return (++clients_started_ << 8) | (index_ & 0xff);
}

ProxyView Worker::proxyView() const {
  ProxyView view;
  view.config = &config_;
  view.topology = topology_.get();
  view.workers = peers_;
  view.clients_open = clients_.open.load();
  view.uptime_seconds = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_)
          .count());
  view.write_lease_valid = writeLeaseValid();
  return view;
}

}  // namespace rhp::proxy
