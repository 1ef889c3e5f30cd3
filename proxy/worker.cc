#include "proxy/worker.h"

#include <spdlog/spdlog.h>

#include <stdexcept>

#include "proxy/errors.h"

namespace rhp::proxy {

namespace {

constexpr std::uint64_t kTickMs = 50;

std::shared_ptr<spdlog::logger> logger() {
  return spdlog::get("proxy");
}

template <class H>
void initOrThrow(int rc, net::UvHandle<H>& handle, const char* what) {
  if (rc != 0) {
    handle.discardUninitialized();
    throw std::runtime_error(std::string(what) + ": " + uv_strerror(rc));
  }
}

}  // namespace

Worker::Worker(unsigned index, const config::Config& config, health::TopologyChannel& channel,
               int listen_fd, ClientCounter& clients)
    : index_(index),
      config_(config),
      channel_(channel),
      clients_(clients),
      topology_(channel.current()),
      hold_(config.failover.hold, config.failover.hold_max_bytes) {
  if (uv_loop_init(&loop_) != 0) throw std::runtime_error("uv_loop_init failed");
  initOrThrow(uv_tcp_init(&loop_, listener_.allocate()), listener_, "uv_tcp_init");
  listener_->data = this;
  const int open_rc = uv_tcp_open(listener_.get(), listen_fd);
  if (open_rc != 0) throw std::runtime_error(std::string("uv_tcp_open: ") + uv_strerror(open_rc));
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
                                static_cast<Worker*>(async->data)->shutdown();
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
  if (listener_) shutdown();
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
}

void Worker::run() {
  const int rc = uv_listen(listener_.stream(), 1024, [](uv_stream_t* server, int status) {
    if (server->data != nullptr) static_cast<Worker*>(server->data)->onAccept(status);
  });
  if (rc != 0) {
    logger()->error("cannot listen worker={} error={}", index_, uv_strerror(rc));
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
    if (stop_requested_.load()) shutdown();
  }
  uv_run(&loop_, UV_RUN_DEFAULT);
}

void Worker::stop() {
  stop_requested_.store(true);
  uv_async_send(stop_wakeup_.get());
}

void Worker::wake() {
  uv_async_send(topology_wakeup_.get());
}

void Worker::shutdown() {
  listener_.reset();
  tick_.reset();
  topology_wakeup_.reset();
  master_.reset();
  retired_pools_.clear();
  while (!hold_.empty()) deliverReply(*hold_.pop(), errors::kHoldTimeout);
  auto sessions = std::exchange(sessions_, {});
  for (auto& [raw, session] : sessions) session->close();
  onLoopTurnEnd();
  closed_sessions_.clear();
  sessions.clear();
  turn_end_.reset();
  stop_wakeup_.reset();
}

void Worker::onAccept(int status) {
  if (status != 0) return;
  net::UvHandle<uv_tcp_t> tcp;
  if (uv_tcp_init(&loop_, tcp.allocate()) != 0) {
    tcp.discardUninitialized();
    return;
  }
  if (uv_accept(listener_.stream(), tcp.stream()) != 0) return;
  if (clients_.open.fetch_add(1) >= clients_.max) {
    clients_.open.fetch_sub(1);
    // Like redis-server: accept, say why, close.
    uv_buf_t buf = uv_buf_init(const_cast<char*>(errors::kMaxClients.data()),
                               static_cast<unsigned>(errors::kMaxClients.size()));
    uv_try_write(tcp.stream(), &buf, 1);
    return;
  }
  auto session = std::make_unique<ClientSession>(*this, std::move(tcp));
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
  backend_flush_.drain([](BackendConnection* connection) { connection->flush(); });
  client_flush_.drain([](ClientSession* session) { session->flush(); });
  closed_sessions_.clear();
}

void Worker::onTick() {
  const std::uint64_t now = uv_now(&loop_);
  if (master_) master_->checkTimeouts(now);
  for (auto& pool : retired_pools_) pool->checkTimeouts(now);
  std::erase_if(retired_pools_, [](const auto& pool) { return pool->drained(); });
  const std::string_view error = holdFailureError();
  hold_.expire(now, [&](RequestPtr request) { deliverReply(*request, error); });
}

void Worker::onTopologyChanged() {
  auto next = channel_.current();
  if (next->version == topology_->version && master_) return;
  topology_ = next;
  master_suspect_ = false;
  if (!topology_->master) {
    retireMaster();
  } else if (!master_ || !(master_->address() == *topology_->master)) {
    retireMaster();
    // A new master exists: whatever older masters still owe us is stale.
    for (auto& pool : retired_pools_) pool->abandon();
    master_ = std::make_unique<NodePool>(&loop_, *topology_->master, config_.backend,
                                         static_cast<PoolEvents&>(*this), backend_flush_);
    master_->start();
  }
  releaseHeld();
}

void Worker::retireMaster() {
  if (!master_) return;
  master_->retire();
  retired_pools_.push_back(std::move(master_));
}

bool Worker::canSendToMaster() const {
  return master_ && master_->ready() && !master_suspect_;
}

void Worker::dispatchToMaster(RequestPtr request) {
  if (!hold_.empty() || !canSendToMaster()) {
    holdOrFail(std::move(request));
    return;
  }
  master_->send(std::move(request));
}

void Worker::holdOrFail(RequestPtr request) {
  if (hold_.hold(request, uv_now(&loop_))) return;
  deliverReply(*request, hold_.empty() && config_.failover.hold.count() == 0 ? holdFailureError()
                                                                             : errors::kHoldFull);
}

std::string_view Worker::holdFailureError() const {
  switch (topology_->status) {
    case health::MasterStatus::NoSentinel:
      return errors::kNoSentinel;
    case health::MasterStatus::UnknownName:
      return errors::kUnknownMaster;
    case health::MasterStatus::NoQuorum:
      return errors::kNoSentinelMajority;
    default:
      return errors::kHoldTimeout;
  }
}

void Worker::releaseHeld() {
  while (!hold_.empty() && canSendToMaster()) master_->send(hold_.pop());
}

void Worker::onPoolReady(NodePool& pool) {
  if (&pool == master_.get()) releaseHeld();
}

void Worker::onPoolConnectionLost(NodePool& pool, std::vector<RequestPtr> unsent) {
  if (!unsent.empty()) hold_.holdAtFront(std::move(unsent), uv_now(&loop_));
  if (&pool == master_.get() && !pool.ready()) channel_.requestRediscovery();
  releaseHeld();
}

void Worker::onReadOnly(NodePool&, RequestPtr request) {
  /* -READONLY from the node we believe is master: it was demoted and the
   * write was not executed. Hold it (ahead of later requests), stop using
   * this master until the control thread has looked again. */
  std::vector<RequestPtr> back;
  back.push_back(std::move(request));
  hold_.holdAtFront(std::move(back), uv_now(&loop_));
  if (!master_suspect_) {
    master_suspect_ = true;
    logger()->info("master answered READONLY, holding writes until rediscovery worker={}", index_);
    channel_.requestRediscovery();
  }
}

}  // namespace rhp::proxy
