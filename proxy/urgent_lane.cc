#include "proxy/urgent_lane.h"

#include "router/errors.h"

namespace rhp::proxy {

void UrgentLane::send(RequestPtr request, const config::Address& node) {
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

void UrgentLane::checkTimeout(std::uint64_t now_ms) {
  if (connection_) connection_->checkTimeout(now_ms);
}

void UrgentLane::shutdown() {
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
  if (&connection != connection_.get()) return;
  for (auto& request : std::exchange(waiting_, {})) connection.send(std::move(request));
}

void UrgentLane::onConnectionDown(BackendConnection& connection, std::vector<RequestPtr> unsent) {
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
