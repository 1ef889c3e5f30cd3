#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "commands/command_table.h"
#include "commands/refusal_policy.h"
#include "config/acl_user.h"
#include "config/config.h"
#include "net/tls_session.h"
#include "proxy/backend_connection.h"
#include "proxy/event_clock.h"
#include "proxy/flush_list.h"
#include "proxy/metrics.h"
#include "proxy/proxy_commands.h"
#include "proxy/request.h"
#include "proxy/request_pool.h"
#include "router/decision.h"
#include "router/placement.h"

namespace rhp::proxy {

class ClientSession;

/* What a client session needs of the worker whose loop it lives on: the
 * settings in force, the backends, and the loop's shared resources. Worker
 * implements it; the session's unit tests fake it. The session includes
 * this and not worker.h, so the worker is the only one that knows both. */
class SessionHost {
 public:
  virtual ~SessionHost() = default;

  /* The settings in force: a SIGHUP reload replaces them between requests. */
  virtual const config::Config& config() const = 0;
  virtual const commands::AllowList& allowList() const = 0;
  /* proxy.users and proxy.password as users (a reload replaces them). */
  virtual const config::AclUsers& users() const = 0;
  virtual const commands::LearnedCommands* learnedCommands() const = 0;
  /* What PROXY INFO and INFO's # Proxy section show, as of now. */
  virtual ProxyView proxyView() const = 0;

  /* The shared lane: the worker's pooled connections. The worker places the
   * request (router::place*); a SCAN-family request reads and updates the
   * session's `scan_node`. */
  virtual void dispatch(router::Via via, RequestPtr request,
                        std::optional<config::Address>& scan_node) = 0;

  /* The dedicated lane. Whether a request behind `fence` may go to `node`
   * now (router::fencePasses). */
  virtual bool fencePasses(router::Fence fence, const std::optional<config::Address>& node) = 0;
  /* The master if it can take requests now. Either way the session is
   * registered for ClientSession::onMasterUpdate() and onTick() until
   * forgetDedicated(). */
  virtual std::optional<config::Address> masterForDedicated(ClientSession& session) = 0;
  virtual void forgetDedicated(ClientSession& session) = 0;
  /* Frees a connection at the end of the loop turn: it may be up the stack. */
  virtual void retireConnection(std::unique_ptr<BackendConnection> connection) = 0;
  /* Why requests that waited for the master too long fail. */
  virtual std::string_view holdFailureError() const = 0;

  /* proxy.auth = "passthrough". The login for a user and password the
   * nodes accepted within proxy.auth_cache_ms (LoginCache), or null. */
  virtual BackendLoginPtr acceptedLogin(std::string_view name, std::string_view password) = 0;
  /* Asks a node (the master, else a replica) whether it accepts `login`:
   * `request` is answered "+OK" (and the login's `refused` filled in) or
   * with the node's error (LoginProbe). */
  virtual void checkLogin(std::shared_ptr<BackendLogin> login, RequestPtr request) = 0;
  /* A node accepted `login` now (for acceptedLogin). */
  virtual void loginAccepted(const BackendLoginPtr& login) = 0;
  /* Passthrough: the login of a client that sent no AUTH (the nodes'
   * `default`, NodesDefaultUser); null in local mode. */
  virtual BackendLoginPtr passthroughDefault() const = 0;

  /* A client switched to RESP3: from now on the pooled connections include
   * RESP3 ones (NodePool::enableResp3). */
  virtual void useResp3() = 0;
  /* A new client's id, unique in the process (HELLO reports it). */
  virtual std::uint64_t newClientId() = 0;

  /* The session's own life: its flush at the end of the loop turn, its
   * memoryUsage() changed by `delta` bytes, and its end. */
  virtual void scheduleFlush(ClientSession& session) = 0;
  virtual void noteClientMemory(std::int64_t delta) = 0;
  virtual void onSessionClosed(ClientSession& session) = 0;
  /* A client of the TLS port failed its handshake (ClientStream): counted,
   * and logged now and then. */
  virtual void onClientTlsFailure(net::TlsFailure failure, std::string_view reason,
                                  std::string_view peer) = 0;

  /* The loop and what all of its sessions share. */
  virtual uv_loop_t* loop() = 0;
  virtual EventClock& clock() = 0;
  virtual WorkerMetrics& metrics() = 0;
  virtual RequestPool& requestPool() = 0;
  virtual std::vector<char>& readBuffer() = 0;
  virtual FlushList<BackendConnection>& backendFlushList() = 0;
  virtual const BackendTls& backendTls() const = 0;

  std::uint64_t now() { return uv_now(loop()); }
};

}  // namespace rhp::proxy
