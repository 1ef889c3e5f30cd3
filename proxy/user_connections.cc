#include "proxy/user_connections.h"

#include "router/errors.h"

namespace rhp::proxy {

namespace {

/* How long the node's refusal of a login answers the user's requests
 * before the set tries to log in again: a password changed on the nodes
 * takes one refused login a second per worker and node, not one per
 * request. */
constexpr std::uint64_t kRefusalRetryMs = 1000;

}  // namespace

UserConnections::UserConnections(uv_loop_t* loop, const config::Address& address,
                                 const config::Config::Backend& settings, const BackendTls& tls,
                                 BackendLoginPtr login, commands::Resp resp,
                                 UserConnectionsOwner& owner,
                                 FlushList<BackendConnection>& flush_list, EventClock& clock)
    : settings_(settings),
      owner_(owner),
      resp_(resp),
      connection_(loop, address, settings, tls, static_cast<BackendEvents&>(*this), flush_list,
                  clock, resp, std::move(login)),
      loop_(loop) {}

UserConnections::~UserConnections() {
  for (auto& entry : waiting_) deliverReply(*entry.request, errors::kUserNotConnected);
}

void UserConnections::send(RequestPtr request, std::uint64_t now_ms) {
  last_used_ms_ = now_ms;
  if (!sameLogin(request->login, connection_.login())) {
    // Another password of the user's: a ready connection logs in with it
    // in order (BackendConnection::send), a new one from the start; tried
    // even after a refusal.
    if (connection_.idle()) connection_.setLogin(request->login);
    refusal_.clear();
  }
  if (!refusal_.empty()) {
    if (now_ms - refused_at_ms_ < kRefusalRetryMs) {
      deliverReply(*request, refusal_);
      return;
    }
    refusal_.clear();
  }
  if (connection_.ready() && waiting_.empty()) {
    connection_.send(std::move(request));
    return;
  }
  waiting_.push_back({std::move(request), now_ms});
  reconnect();
}

void UserConnections::reconnect() {
  if (connection_.idle() && !waiting_.empty()) connection_.connect();
}

std::vector<RequestPtr> UserConnections::takeWaiting() {
  std::vector<RequestPtr> taken;
  taken.reserve(waiting_.size());
  for (auto& entry : waiting_) taken.push_back(std::move(entry.request));
  waiting_.clear();
  return taken;
}

void UserConnections::checkTimeouts(std::uint64_t now_ms) {
  connection_.checkTimeout(now_ms);
  const auto timeout = static_cast<std::uint64_t>(settings_.request_timeout.count());
  while (!waiting_.empty() && now_ms - waiting_.front().since_ms >= timeout) {
    RequestPtr request = std::move(waiting_.front().request);
    waiting_.pop_front();
    deliverReply(*request, errors::kUserNotConnected);
  }
}

void UserConnections::onConnectionReady(BackendConnection&) {
  up_ = true;
  owner_.onUserConnected(*this);
  if (!waiting_.empty() && !owner_.mayStillSend(*this)) {
    owner_.returnRequests(*this, takeWaiting());
    return;
  }
  // In order, and before anything sent from now on (send() queues behind
  // them while any wait).
  while (!waiting_.empty() && connection_.ready()) {
    RequestPtr request = std::move(waiting_.front().request);
    waiting_.pop_front();
    connection_.send(std::move(request));
  }
}

void UserConnections::onConnectionDown(BackendConnection& connection,
                                       std::vector<RequestPtr> unsent) {
  if (std::exchange(up_, false)) owner_.onUserDisconnected(*this);
  if (!connection.loginRefusal().empty()) {
    // Nothing of the user's ran: the refusal is their answer, as Redis
    // gives it to a client whose AUTH it refused.
    refusal_ = connection.loginRefusal();
    refused_at_ms_ = uv_now(loop_);
    for (auto& request : unsent) deliverReply(*request, refusal_);
    for (auto& entry : std::exchange(waiting_, {})) deliverReply(*entry.request, refusal_);
    owner_.onUserRefused(*this, refusal_);
    return;
  }
  if (owner_.keepsWaiting(*this)) {
    // Ahead of those that never left, with a new deadline each: they were
    // written once. The ones waiting keep theirs, so a node that refuses
    // every connect fails them after backend.request_timeout_ms.
    const std::uint64_t now_ms = uv_now(loop_);
    for (auto it = unsent.rbegin(); it != unsent.rend(); ++it) {
      waiting_.push_front({std::move(*it), now_ms});
    }
    if (!waiting_.empty()) owner_.scheduleUserReconnect();
    return;
  }
  std::vector<RequestPtr> requests = std::move(unsent);
  for (auto& entry : std::exchange(waiting_, {})) requests.push_back(std::move(entry.request));
  owner_.returnRequests(*this, std::move(requests));
}

void UserConnections::onRejected(BackendConnection&, RequestPtr request, std::string_view frame) {
  owner_.onUserRejected(std::move(request), frame);
}

}  // namespace rhp::proxy
