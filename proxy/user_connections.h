#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "proxy/backend_connection.h"
#include "proxy/backend_login.h"

namespace rhp::proxy {

class UserConnections;

/* Implemented by the NodePool that holds the set. */
class UserConnectionsOwner {
 public:
  /* The connection broke. Whether what never ran (and reads safe to send
   * again) waits in the set for a reconnect (scheduleUserReconnect), or
   * goes back by returnRequests, in order. */
  virtual bool keepsWaiting(const UserConnections& set) const = 0;
  virtual void scheduleUserReconnect() = 0;
  /* The connection is up: whether the requests that waited for it may
   * still go to this node (they were placed before it connected, and the
   * master's failover fence may have closed since), or go back. */
  virtual bool mayStillSend(const UserConnections& set) = 0;
  /* Requests that never ran, handed back in order (to the worker, which
   * places them again: the hold queue, another node). */
  virtual void returnRequests(UserConnections& set, std::vector<RequestPtr> requests) = 0;
  /* The node refused the user's AUTH (`refusal` is its error). */
  virtual void onUserRefused(UserConnections& set, std::string_view refusal) = 0;
  virtual void onUserConnected(UserConnections& set) = 0;
  /* A connection that was up went down (after onUserConnected). */
  virtual void onUserDisconnected(UserConnections& set) = 0;
  /* -READONLY or -NOSCRIPT, as BackendEvents::onRejected. */
  virtual void onUserRejected(RequestPtr request, std::string_view frame) = 0;

 protected:
  ~UserConnectionsOwner() = default;
};

/* A passthrough user's connection to one node for one protocol
 * (proxy.auth = "passthrough"): logged in as the user, so that Redis
 * itself checks every command, key and channel of the user's clients and
 * answers -NOPERM as it would to them directly. Opened when the user's
 * first request for the node comes and closed after
 * backend.user_idle_timeout_ms without one (NodePool). Requests that come
 * while it connects wait here, in order; a request is never written before
 * the node accepted the login (BackendConnection's Verifying state): Redis
 * runs what follows a refused AUTH as `default`.
 *
 * One connection per user, protocol, worker and node: a user's clients
 * share it as the proxy's own clients share backend.connections_per_node,
 * and Redis answers a pipeline on one connection in order. */
class UserConnections final : private BackendEvents {
 public:
  UserConnections(uv_loop_t* loop, const config::Address& address,
                  const config::Config::Backend& settings, const BackendTls& tls,
                  BackendLoginPtr login, commands::Resp resp, UserConnectionsOwner& owner,
                  FlushList<BackendConnection>& flush_list, EventClock& clock);
  ~UserConnections() override;
  UserConnections(const UserConnections&) = delete;
  UserConnections& operator=(const UserConnections&) = delete;

  const std::string& username() const { return connection_.login()->username; }
  const BackendLoginPtr& login() const { return connection_.login(); }
  commands::Resp protocol() const { return resp_; }
  bool connected() const { return connection_.ready(); }
  /* Up as far as the owner was told (onUserConnected, not yet
   * onUserDisconnected). */
  bool up() const { return up_; }
  /* Requests written or waiting. */
  std::size_t outstanding() const { return connection_.outstanding() + waiting_.size(); }
  /* Nothing outstanding, and no request since `idle_ms` before now. */
  bool idleSince(std::uint64_t now_ms, std::uint64_t idle_ms) const {
    return outstanding() == 0 && now_ms - last_used_ms_ >= idle_ms;
  }
  std::uint64_t lastUsed() const { return last_used_ms_; }

  /* Sends it, or keeps it until the connection is ready. A request whose
   * login is newer (the user authenticated again, with another password)
   * makes the set log in with that one from its next connect on. */
  void send(RequestPtr request, std::uint64_t now_ms);
  /* Connects if down with requests waiting. */
  void reconnect();
  /* Fails requests waiting past backend.request_timeout_ms; and written
   * ones, as BackendConnection::checkTimeout. */
  void checkTimeouts(std::uint64_t now_ms);
  void setLostError(std::string_view error) { connection_.setLostError(error); }
  /* Drops the connection; what never ran goes to the owner. */
  void fail(std::string_view reason, std::string_view error) { connection_.fail(reason, error); }
  /* What never ran, for the owner (a retired pool gives it back). */
  std::vector<RequestPtr> takeWaiting();

 private:
  struct Waiting {
    RequestPtr request;
    std::uint64_t since_ms;
  };

  // BackendEvents
  void onConnectionReady(BackendConnection& connection) override;
  void onConnectionDown(BackendConnection& connection, std::vector<RequestPtr> unsent) override;
  void onRejected(BackendConnection& connection, RequestPtr request,
                  std::string_view frame) override;

  const config::Config::Backend& settings_;
  UserConnectionsOwner& owner_;
  commands::Resp resp_;
  BackendConnection connection_;
  std::deque<Waiting> waiting_;
  bool up_ = false;
  std::uint64_t last_used_ms_ = 0;
  /* The node's last refusal of the login, answered to the user's requests
   * until another login comes or kRefusalRetryMs passed. */
  std::string refusal_;
  std::uint64_t refused_at_ms_ = 0;
  uv_loop_t* loop_;
};

}  // namespace rhp::proxy
