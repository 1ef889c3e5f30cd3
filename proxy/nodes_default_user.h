#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "proxy/backend_login.h"
#include "proxy/request.h"

namespace rhp::proxy {

class NodePool;

/* proxy.auth = "passthrough": Redis's `default` user as the nodes define
 * it. A client that sent no AUTH is `default` to Redis, and already logged
 * in when that user has nopass; through the proxy the same holds. The
 * nodes are asked by logging in as `default` with no password
 * (LoginProbe: a nopass user accepts any) when the master is usable and
 * every proxy.auth_cache_ms after. Such clients' requests travel on
 * connections logged in as `default`, never on the proxy's own
 * (backend.username), whatever the answer: with a password on `default`
 * those would be refused by the nodes, as they should. */
class NodesDefaultUser final : private ReplySink {
 public:
  /* `changed`: the answer differs from the last (nopass(), refused()). */
  explicit NodesDefaultUser(std::function<void()> changed);
  ~NodesDefaultUser();
  NodesDefaultUser(const NodesDefaultUser&) = delete;
  NodesDefaultUser& operator=(const NodesDefaultUser&) = delete;

  /* The login of clients that have not sent AUTH: `default`, no password. */
  const BackendLoginPtr& login() const { return login_; }
  /* Whether the nodes let `default` in without a password. */
  bool nopass() const { return nopass_; }
  /* The commands the proxy answers that they refuse it (BackendLogin). */
  const std::vector<std::string>& refused() const { return login_->refused; }

  /* Asks `node`, unless it was asked less than `interval_ms` ago or an
   * answer is still due. */
  void check(NodePool& node, std::uint64_t now_ms, std::uint64_t interval_ms);

 private:
  void complete(Slot& slot, std::string_view reply) override;
  void sent(Slot&, const config::Address*) override {}
  router::ReadFloor* readFloor() override { return nullptr; }

  std::function<void()> changed_;
  BackendLoginPtr login_;
  std::shared_ptr<BackendLogin> candidate_;  // being checked
  bool nopass_ = false;
  Slot slot_;
  Request* asked_ = nullptr;  // the check's request until answered
  std::uint64_t asked_at_ms_ = 0;
  bool ever_asked_ = false;
};

}  // namespace rhp::proxy
