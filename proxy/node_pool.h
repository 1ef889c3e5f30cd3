#pragma once

#include <uv.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "net/uv_handle.h"
#include "proxy/backend_connection.h"
#include "proxy/login_probe.h"
#include "proxy/metrics.h"
#include "proxy/user_connections.h"

namespace rhp::proxy {

class NodePool;

/* Implemented by the worker. */
class PoolEvents {
 public:
  virtual ~PoolEvents() = default;
  virtual void onPoolReady(NodePool& pool) = 0;
  /* A connection broke; `unsent` never reached the node. */
  virtual void onPoolConnectionLost(NodePool& pool, std::vector<RequestPtr> unsent) = 0;
  /* -READONLY or -NOSCRIPT: not executed; see BackendEvents::onRejected. */
  virtual void onRejected(NodePool& pool, RequestPtr request, std::string_view frame) = 0;
  /* Whether requests placed on `pool` a while ago may still be written to
   * it now: for the master, its failover fence (router::masterOpen). */
  virtual bool stillOpen(const NodePool& pool) = 0;
};

/* The worker's connections to one node: created on start(), reconnected with
 * backoff while the node is in use, and retired (no new requests, no
 * reconnects) when the topology moves away from it.
 *
 * backend.connections_per_node connections speak RESP2; once a RESP3
 * client appears on the worker (enableResp3) as many again speak RESP3.
 * Redis shapes a reply for the connection's protocol, so a request goes
 * only to a connection of its client's protocol (switching a shared one
 * per request would cost a HELLO each time, and a client's requests would
 * no longer share one connection: a GET could overtake its SET). The pool
 * is ready when each protocol in use has a ready connection. */
class NodePool final : private BackendEvents, private UserConnectionsOwner {
 public:
  enum class Role { Master, Replica };

  NodePool(uv_loop_t* loop, config::Address address, Role role,
           const config::Config::Backend& settings, const BackendTls& tls, PoolEvents& events,
           FlushList<BackendConnection>& flush_list, EventClock& clock, bool resp3 = false);
  ~NodePool() override;

  const config::Address& address() const { return address_; }
  Role role() const { return role_; }
  /* Requests written or queued on its connections. */
  std::size_t outstanding() const;
  bool ready() const { return ready_resp2_ > 0 && (!resp3_ || ready_connections_ > ready_resp2_); }
  bool retired() const { return retired_; }
  bool drained() const;

  void start();
  /* Adds the RESP3 connections (once), connecting them if started. */
  void enableResp3();
  /* Precondition: ready(). A request with a login goes on its user's
   * connection (UserConnections), opened on demand. */
  void send(RequestPtr request);
  /* Answers `request` with whether the node accepts `login` (LoginProbe). */
  void checkLogin(std::shared_ptr<BackendLogin> login, RequestPtr request);
  void retire();
  /* Requests waiting for a user's connection (never sent), in order. */
  std::vector<RequestPtr> takeUserWaiting();
  /* Drops the connections now. Sentinel promoted another node: a reply this
   * node sends from here on comes from a stale master and must not
   * acknowledge a write. Written writes fail (outcome unknown); reads and
   * unsent requests go back to the worker. */
  void abandon();
  /* Fails requests past backend.request_timeout_ms, closes users'
   * connections idle past backend.user_idle_timeout_ms, and ends finished
   * login checks. */
  void checkTimeouts(std::uint64_t now_ms);
  /* Where this pool counts; the worker's slot for this node and role. */
  void setMetrics(NodeMetrics* metrics) { metrics_ = metrics; }

 private:
  void onConnectionReady(BackendConnection& connection) override;
  void onConnectionDown(BackendConnection& connection, std::vector<RequestPtr> unsent) override;
  void onRejected(BackendConnection& connection, RequestPtr request,
                  std::string_view frame) override;
  // UserConnectionsOwner
  bool keepsWaiting(const UserConnections& set) const override;
  void scheduleUserReconnect() override { scheduleReconnect(); }
  bool mayStillSend(const UserConnections&) override {
    return !retired_ && events_.stillOpen(*this);
  }
  void returnRequests(UserConnections& set, std::vector<RequestPtr> requests) override;
  void onUserRefused(UserConnections& set, std::string_view refusal) override;
  void onUserConnected(UserConnections& set) override;
  void onUserDisconnected(UserConnections& set) override;
  void onUserRejected(RequestPtr request, std::string_view frame) override;
  void sendAsUser(RequestPtr request);
  /* The user's connection for `resp`, made if there is room. */
  UserConnections* userConnections(const BackendLoginPtr& login, commands::Resp resp);
  void scheduleReconnect();
  void reconnectDown();
  void addConnections(commands::Resp resp);

  uv_loop_t* loop_;
  const config::Config::Backend& settings_;
  const BackendTls& tls_;
  FlushList<BackendConnection>& flush_list_;
  EventClock& clock_;
  config::Address address_;
  Role role_;
  PoolEvents& events_;
  std::vector<std::unique_ptr<BackendConnection>> connections_;
  std::vector<bool> connection_ready_;
  std::vector<commands::Resp> connection_resp_;  // what each was opened to speak
  std::size_t ready_connections_ = 0;
  std::size_t ready_resp2_ = 0;  // of ready_connections_
  net::UvHandle<uv_timer_t> reconnect_timer_;
  std::chrono::milliseconds backoff_{25};
  bool retired_ = false;
  bool started_ = false;
  bool resp3_ = false;
  std::string logged_unreachable_;                       // the reason last logged; empty: reachable
  std::vector<std::unique_ptr<UserConnections>> users_;  // passthrough users', on demand
  std::vector<std::unique_ptr<UserConnections>> closed_users_;  // freed on the next tick
  std::vector<std::unique_ptr<LoginProbe>> probes_;
  std::vector<std::string> refusals_logged_;  // users whose refusal was logged (once each)
  NodeMetrics* metrics_ = nullptr;
};

}  // namespace rhp::proxy
