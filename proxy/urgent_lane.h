#pragma once

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "config/address.h"
#include "proxy/backend_connection.h"
#include "proxy/request.h"
#include "proxy/session_host.h"

namespace rhp::proxy {

/* A worker's connection for what must reach a busy master at once: SCRIPT
 * KILL and FUNCTION KILL (router::Via::Urgent). While a script runs, Redis
 * reads nothing more from the connection that sent it (a shared one: every
 * client of the worker waits behind it) and answers -BUSY on the others.
 * So these go past the shared pipelines, the hold queue and the write
 * fence, on a connection of their own to the node, made when first needed
 * and kept. Redis's answer (+OK, -NOTBUSY, -UNKILLABLE) is the client's.
 *
 * A passthrough user's (Request::login) goes on a connection of its own,
 * logged in as the user, made for it and closed once answered: Redis
 * checks the user's right to kill, and a kill is too rare to keep a
 * connection per user for. */
class UrgentLane final : private BackendEvents {
 public:
  explicit UrgentLane(SessionHost& host) : host_(host) {}
  ~UrgentLane() override { shutdown(); }
  UrgentLane(const UrgentLane&) = delete;
  UrgentLane& operator=(const UrgentLane&) = delete;

  /* Sends `request` to `node` now, or as soon as the connection is up. */
  void send(RequestPtr request, const config::Address& node);
  /* Requests past backend.request_timeout_ms fail and the link is replaced. */
  void checkTimeout(std::uint64_t now_ms);
  /* The worker stops: what waits is failed, the connection closed. */
  void shutdown();

 private:
  void onConnectionReady(BackendConnection& connection) override;
  void onConnectionDown(BackendConnection& connection, std::vector<RequestPtr> unsent) override;
  void onRejected(BackendConnection& connection, RequestPtr request,
                  std::string_view frame) override;
  void retire();
  void sendAsUser(RequestPtr request, const config::Address& node);
  /* Closes the user's connection (`at`), answering its request if it was
   * never sent. */
  void retireUser(std::size_t at, std::string_view error);

  SessionHost& host_;
  std::unique_ptr<BackendConnection> connection_;
  std::optional<config::Address> node_;  // where connection_ goes
  std::vector<RequestPtr> waiting_;      // until connection_ is ready
  struct UserKill {
    std::unique_ptr<BackendConnection> connection;
    RequestPtr request;  // until the connection is ready
  };
  std::vector<UserKill> user_kills_;
};

}  // namespace rhp::proxy
