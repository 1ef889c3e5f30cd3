#include "proxy/node_pool.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>

#include "proxy/proxy_log.h"
#include "router/errors.h"

namespace rhp::proxy {

namespace {

constexpr std::chrono::milliseconds kInitialBackoff{25};
constexpr std::chrono::milliseconds kMaxBackoff{1000};

}  // namespace

NodePool::NodePool(uv_loop_t* loop, config::Address address, Role role,
                   const config::Config::Backend& settings, const BackendTls& tls,
                   PoolEvents& events, FlushList<BackendConnection>& flush_list, EventClock& clock,
                   bool resp3)
    : loop_(loop),
      settings_(settings),
      tls_(tls),
      flush_list_(flush_list),
      clock_(clock),
      address_(std::move(address)),
      role_(role),
      events_(events) {
  if (uv_timer_init(loop_, reconnect_timer_.allocate()) != 0) {
    reconnect_timer_.discardUninitialized();
    throw std::runtime_error("uv_timer_init failed");
  }
  reconnect_timer_->data = this;
  addConnections(commands::Resp::V2);
  if (resp3) enableResp3();
}

void NodePool::addConnections(commands::Resp resp) {
  for (std::uint32_t i = 0; i < settings_.connections_per_node; ++i) {
    connections_.push_back(std::make_unique<BackendConnection>(loop_, address_, settings_, tls_,
                                                               static_cast<BackendEvents&>(*this),
                                                               flush_list_, clock_, resp));
    connection_ready_.push_back(false);
    connection_resp_.push_back(resp);
    if (started_ && !retired_) connections_.back()->connect();
  }
}

void NodePool::enableResp3() {
  if (resp3_) return;
  resp3_ = true;
  addConnections(commands::Resp::V3);
}

NodePool::~NodePool() {
  // Connections fail their in-flight requests as they go; this pool must
  // not hear about it any more.
  retired_ = true;
  if (metrics_ != nullptr) {
    const auto users_up =
        std::count_if(users_.begin(), users_.end(), [](const auto& set) { return set->up(); });
    metrics_->connections.add(-static_cast<std::int64_t>(ready_connections_) - users_up);
  }
  metrics_ = nullptr;
}

bool NodePool::drained() const {
  return outstanding() == 0;
}

std::size_t NodePool::outstanding() const {
  std::size_t total = 0;
  for (const auto& connection : connections_) total += connection->outstanding();
  for (const auto& set : users_) total += set->outstanding();
  // A login check still running keeps a retired pool (its answer is due).
  for (const auto& probe : probes_) total += probe->done() ? 0 : 1;
  return total;
}

void NodePool::start() {
  started_ = true;
  for (auto& connection : connections_) connection->connect();
}

void NodePool::send(RequestPtr request) {
  if (request->login) {
    sendAsUser(std::move(request));
    return;
  }
  // A client's requests keep to one connection of their protocol, as on
  // one Redis connection: spread by load, a pipelined GET could run before
  // the SET in front of it (backend.connections_per_node > 1). The
  // proxy's own requests (no client) take the least loaded.
  BackendConnection* best = nullptr;
  if (const ReplySink* client = request->reply_to.sink; client != nullptr) {
    const std::size_t per_protocol = std::max<std::size_t>(settings_.connections_per_node, 1);
    const std::size_t first = request->resp == commands::Resp::V2 ? 0 : per_protocol;
    // Sessions are 16-byte aligned heap objects: the address is mixed
    // (Fibonacci hashing) before it picks, or every client would share
    // connection 0.
    const auto mixed = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(client)) *
                       0x9E3779B97F4A7C15ull;
    const std::size_t home = static_cast<std::size_t>(mixed >> 32) % per_protocol;
    // Its own connection, or while that is down the next ready one after
    // it, the same for every request of the client: a pipeline stays on
    // one connection.
    for (std::size_t k = 0; k < per_protocol && best == nullptr; ++k) {
      const std::size_t i = first + (home + k) % per_protocol;
      if (i < connections_.size() && connection_ready_[i] && connection_resp_[i] == request->resp) {
        best = connections_[i].get();
      }
    }
  }
  if (best == nullptr) {
    // The proxy's own requests: the least loaded of their protocol.
    for (std::size_t i = 0; i < connections_.size(); ++i) {
      if (!connection_ready_[i] || connection_resp_[i] != request->resp) continue;
      if (best == nullptr || connections_[i]->outstanding() < best->outstanding()) {
        best = connections_[i].get();
      }
    }
  }
  if (best == nullptr) {
    // None of its protocol (ready() rules that out once the worker enabled
    // RESP3): any ready connection switches with HELLO before it.
    for (std::size_t i = 0; i < connections_.size() && best == nullptr; ++i) {
      if (connection_ready_[i]) best = connections_[i].get();
    }
  }
  request->reply_to.sentTo(role_ == Role::Replica && request->floor_checked ? &address_ : nullptr);
  best->send(std::move(request));
  if (metrics_ != nullptr) metrics_->requests.add();
}

void NodePool::retire() {
  retired_ = true;
  uv_timer_stop(reconnect_timer_.get());
  for (auto& connection : connections_) connection->setLostError(errors::kFailedOverInFlight);
  for (auto& set : users_) set->setLostError(errors::kFailedOverInFlight);
}

std::vector<RequestPtr> NodePool::takeUserWaiting() {
  std::vector<RequestPtr> all;
  for (auto& set : users_) {
    for (auto& request : set->takeWaiting()) all.push_back(std::move(request));
  }
  return all;
}

void NodePool::abandon() {
  retire();
  for (auto& connection : connections_) {
    connection->fail("another node was promoted", errors::kFailedOverInFlight);
  }
  // Requests waiting for a user's connection never left: they go back to
  // the worker with the rest (returnRequests), for the new master.
  for (auto& set : users_) {
    set->fail("another node was promoted", errors::kFailedOverInFlight);
    if (std::vector<RequestPtr> waiting = set->takeWaiting(); !waiting.empty()) {
      events_.onPoolConnectionLost(*this, std::move(waiting));
    }
  }
}

void NodePool::checkTimeouts(std::uint64_t now_ms) {
  for (auto& connection : connections_) connection->checkTimeout(now_ms);
  const auto idle_ms = static_cast<std::uint64_t>(settings_.user_idle_timeout.count());
  for (auto& set : users_) set->checkTimeouts(now_ms);
  // Each user's connections cost a Redis client (and its buffers) per
  // worker: one that nothing used for user_idle_timeout_ms closes.
  std::erase_if(users_, [&](const auto& set) {
    if (!set->idleSince(now_ms, idle_ms)) return false;
    set->fail("idle past backend.user_idle_timeout_ms", errors::kMasterLostInFlight);
    return true;
  });
  // By index: a probe's answer can start the client's next login check,
  // which adds a probe here.
  for (std::size_t i = 0; i < probes_.size(); ++i) probes_[i]->checkTimeout(now_ms);
  std::erase_if(probes_, [](const auto& probe) { return probe->done(); });
  closed_users_.clear();
}

void NodePool::checkLogin(std::shared_ptr<BackendLogin> login, RequestPtr request) {
  probes_.push_back(std::make_unique<LoginProbe>(loop_, address_, settings_, tls_, std::move(login),
                                                 std::move(request), flush_list_, clock_));
}

UserConnections* NodePool::userConnections(const BackendLoginPtr& login, commands::Resp resp) {
  for (auto& set : users_) {
    // The same login object (sessions share the one the cache returns)
    // spares the name's comparison.
    if (set->protocol() == resp && (set->login() == login || set->username() == login->username)) {
      return set.get();
    }
  }
  if (users_.size() >= settings_.max_users) {
    // Room from the one idle longest; none idle: the request fails rather
    // than exceed the cap (a client cycling through names must not open a
    // connection per name).
    auto idlest = users_.end();
    for (auto it = users_.begin(); it != users_.end(); ++it) {
      if ((*it)->outstanding() == 0 &&
          (idlest == users_.end() || (*it)->lastUsed() < (*idlest)->lastUsed())) {
        idlest = it;
      }
    }
    if (idlest == users_.end()) return nullptr;
    // Freed on the next tick: its connection may be up the stack.
    (*idlest)->fail("room for another user (backend.max_users)", errors::kMasterLostInFlight);
    closed_users_.push_back(std::move(*idlest));
    users_.erase(idlest);
  }
  users_.push_back(std::make_unique<UserConnections>(loop_, address_, settings_, tls_, login, resp,
                                                     static_cast<UserConnectionsOwner&>(*this),
                                                     flush_list_, clock_));
  return users_.back().get();
}

void NodePool::sendAsUser(RequestPtr request) {
  UserConnections* set = userConnections(request->login, request->resp);
  if (set == nullptr) {
    deliverReply(*request, errors::kTooManyUsers);
    return;
  }
  request->reply_to.sentTo(role_ == Role::Replica && request->floor_checked ? &address_ : nullptr);
  set->send(std::move(request), uv_now(loop_));
  if (metrics_ != nullptr) metrics_->requests.add();
}

bool NodePool::keepsWaiting(const UserConnections&) const {
  // While the node serves the proxy's own connections, the user's broke on
  // its own: it reconnects. Otherwise the worker decides (the hold queue,
  // another replica) as for every request the node could not take.
  return !retired_ && ready();
}

void NodePool::returnRequests(UserConnections&, std::vector<RequestPtr> requests) {
  if (!requests.empty()) events_.onPoolConnectionLost(*this, std::move(requests));
}

void NodePool::onUserRefused(UserConnections& set, std::string_view refusal) {
  if (std::find(refusals_logged_.begin(), refusals_logged_.end(), set.username()) !=
      refusals_logged_.end()) {
    return;
  }
  // Once per user and node (per worker): users must exist, with the same
  // passwords, on every node; a node where one is missing refuses it here.
  if (refusals_logged_.size() < settings_.max_users) refusals_logged_.push_back(set.username());
  proxyLog()->error(
      "node refused a passthrough user's login address={} user=\"{}\" reply=\"{}\" (define the "
      "user with the same passwords on every node)",
      address_.toString(), set.username(), refusal.substr(0, refusal.size() - 2));
}

void NodePool::onUserDisconnected(UserConnections&) {
  if (metrics_ != nullptr) metrics_->connections.add(-1);
}

void NodePool::onUserConnected(UserConnections& set) {
  if (metrics_ != nullptr) {
    metrics_->connects.add();
    metrics_->connections.add(1);
  }
  auto logged = std::find(refusals_logged_.begin(), refusals_logged_.end(), set.username());
  if (logged != refusals_logged_.end()) refusals_logged_.erase(logged);
}

void NodePool::onUserRejected(RequestPtr request, std::string_view frame) {
  events_.onRejected(*this, std::move(request), frame);
}

void NodePool::onConnectionReady(BackendConnection& connection) {
  for (std::size_t i = 0; i < connections_.size(); ++i) {
    if (connections_[i].get() == &connection && !connection_ready_[i]) {
      connection_ready_[i] = true;
      ++ready_connections_;
      if (connection_resp_[i] == commands::Resp::V2) ++ready_resp2_;
      if (metrics_ != nullptr) {
        metrics_->connects.add();
        metrics_->connections.add(1);
      }
    }
  }
  backoff_ = kInitialBackoff;
  if (!logged_unreachable_.empty()) {
    proxyLog()->info("backend reachable again address={}", address_.toString());
    logged_unreachable_.clear();
  }
  if (!retired_) events_.onPoolReady(*this);
}

void NodePool::onConnectionDown(BackendConnection& connection, std::vector<RequestPtr> unsent) {
  for (std::size_t i = 0; i < connections_.size(); ++i) {
    if (connections_[i].get() == &connection && connection_ready_[i]) {
      connection_ready_[i] = false;
      --ready_connections_;
      if (connection_resp_[i] == commands::Resp::V2) --ready_resp2_;
      if (metrics_ != nullptr) metrics_->connections.add(-1);
    }
  }
  if (metrics_ != nullptr) {
    metrics_->reads_resent.add(connection.takeResent());
    if (const auto tls = connection.tlsFailure()) {
      metrics_->tls_failures[static_cast<std::size_t>(*tls)].add();
    }
  }
  if (retired_ && unsent.empty()) return;
  if (!retired_) {
    if (ready_connections_ == 0 && connection.lastFailure() != logged_unreachable_) {
      // The reason says what to mend: a TLS one ("certificate verify
      // failed: hostname mismatch") never goes away by retrying. Said again
      // when it changes: a rotated certificate that the node refuses shows
      // up after "connection closed by the backend", not instead of it.
      proxyLog()->warn("backend unreachable address={} reason=\"{}\" retrying_every_ms<={}",
                       address_.toString(), connection.lastFailure(), kMaxBackoff.count());
      logged_unreachable_ = connection.lastFailure();
    }
    scheduleReconnect();
  }
  events_.onPoolConnectionLost(*this, std::move(unsent));
}

void NodePool::onRejected(BackendConnection&, RequestPtr request, std::string_view frame) {
  events_.onRejected(*this, std::move(request), frame);
}

void NodePool::scheduleReconnect() {
  if (uv_is_active(reinterpret_cast<uv_handle_t*>(reconnect_timer_.get()))) return;
  uv_timer_start(
      reconnect_timer_.get(),
      [](uv_timer_t* timer) {
        if (timer->data != nullptr) static_cast<NodePool*>(timer->data)->reconnectDown();
      },
      static_cast<uint64_t>(backoff_.count()), 0);
  backoff_ = std::min(backoff_ * 2, kMaxBackoff);
}

void NodePool::reconnectDown() {
  if (retired_) return;
  for (auto& connection : connections_) {
    if (connection->idle()) connection->connect();
  }
  for (auto& set : users_) set->reconnect();
}

}  // namespace rhp::proxy
