#include "proxy/urgent_lane.h"

#include "router/errors.h"

namespace rhp::proxy {

void UrgentLane::send(RequestPtr request, const config::Address& node) {
  if (request->login) {
    sendAsUser(std::move(request), node);
    return;
  }
  if (connection_ && node_ && !(*node_ == node)) retire();  // the master moved
  if (connection_ && connection_->ready()) {
    connection_->send(std::move(request));
    return;
  }
  waiting_.push_back(std::move(request));
  if (connection_) return;
  node_ = node;
  connection_ = std::make_unique<BackendConnection>(
      host_.loop(), node, host_.config().backend, host_.backendTls(),
      static_cast<BackendEvents&>(*this), host_.backendFlushList(), host_.clock());
  connection_->connect();
}

void UrgentLane::sendAsUser(RequestPtr request, const config::Address& node) {
  auto connection = std::make_unique<BackendConnection>(
      host_.loop(), node, host_.config().backend, host_.backendTls(),
      static_cast<BackendEvents&>(*this), host_.backendFlushList(), host_.clock(),
      commands::Resp::V2, request->login);
  BackendConnection& made = *connection;
  user_kills_.push_back({std::move(connection), std::move(request)});
  made.connect();  // may fail at once: onConnectionDown takes it back out
}

void UrgentLane::retireUser(std::size_t at, std::string_view error) {
  UserKill kill = std::move(user_kills_[at]);
  user_kills_.erase(user_kills_.begin() + static_cast<std::ptrdiff_t>(at));
  if (kill.request) deliverReply(*kill.request, error);
  host_.retireConnection(std::move(kill.connection));
}

void UrgentLane::checkTimeout(std::uint64_t now_ms) {
  if (connection_) connection_->checkTimeout(now_ms);
  for (std::size_t i = user_kills_.size(); i-- > 0;) {
    user_kills_[i].connection->checkTimeout(now_ms);
    // Answered: its connection goes.
    if (i < user_kills_.size() && !user_kills_[i].request && user_kills_[i].connection->ready() &&
        user_kills_[i].connection->outstanding() == 0) {
      retireUser(i, {});
    }
  }
}

void UrgentLane::shutdown() {
  while (!user_kills_.empty()) retireUser(user_kills_.size() - 1, errors::kMasterLostInFlight);
  for (auto& request : std::exchange(waiting_, {})) {
    deliverReply(*request, errors::kMasterLostInFlight);
  }
  retire();
}

/* The connection may be up the call stack: the worker frees it at the end
 * of the loop turn. */
void UrgentLane::retire() {
  if (connection_) host_.retireConnection(std::move(connection_));
  node_.reset();
}

void UrgentLane::onConnectionReady(BackendConnection& connection) {
  for (auto& kill : user_kills_) {
    if (kill.connection.get() == &connection && kill.request) {
      connection.send(std::move(kill.request));
      return;
    }
  }
  if (&connection != connection_.get()) return;
  for (auto& request : std::exchange(waiting_, {})) connection.send(std::move(request));
}

void UrgentLane::onConnectionDown(BackendConnection& connection, std::vector<RequestPtr> unsent) {
  for (std::size_t i = 0; i < user_kills_.size(); ++i) {
    if (user_kills_[i].connection.get() != &connection) continue;
    const std::string_view error = connection.loginRefusal().empty()
                                       ? errors::kMasterLostInFlight
                                       : std::string_view(connection.loginRefusal());
    for (auto& request : unsent) deliverReply(*request, error);
    retireUser(i, error);
    return;
  }
  if (&connection != connection_.get()) return;
  retire();
  // Nothing is sent twice: a KILL that went nowhere fails, and the client
  // may ask again (the next one makes a new connection).
  for (auto& request : unsent) deliverReply(*request, errors::kMasterLostInFlight);
  for (auto& request : std::exchange(waiting_, {})) {
    deliverReply(*request, errors::kMasterLostInFlight);
  }
}

void UrgentLane::onRejected(BackendConnection&, RequestPtr request, std::string_view frame) {
  deliverReply(*request, frame);
}

}  // namespace rhp::proxy
