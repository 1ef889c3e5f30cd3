#pragma once

#include <uv.h>

#include <array>
#include <cstdint>
#include <memory>

#include "config/config.h"
#include "proxy/backend_connection.h"
#include "proxy/backend_login.h"

namespace rhp::proxy {

/* Checks a passthrough client's AUTH (proxy.auth = "passthrough") the only
 * way that asks the nodes and nothing else: a connection that logs in as
 * the user. Once the node accepted the login, the commands the proxy
 * answers itself run once each as the user, and those the node refuses
 * with -NOPERM go to `login->refused`. `request` (the client's AUTH slot)
 * then gets "+OK", or the node's own refusal of the login
 * (-WRONGPASS ...), or errors::kLoginUnchecked when the node could not be
 * asked. The owner destroys the probe once done(): its connection may be
 * up the stack then. */
class LoginProbe final : private BackendEvents, private ReplySink {
 public:
  LoginProbe(uv_loop_t* loop, const config::Address& address,
             const config::Config::Backend& settings, const BackendTls& tls,
             std::shared_ptr<BackendLogin> login, RequestPtr request,
             FlushList<BackendConnection>& flush_list, EventClock& clock);
  LoginProbe(const LoginProbe&) = delete;
  LoginProbe& operator=(const LoginProbe&) = delete;
  ~LoginProbe() override;

  bool done() const { return !request_; }
  /* A check unanswered past backend.request_timeout_ms ends the probe
   * (errors::kLoginUnchecked), as BackendConnection::checkTimeout. */
  void checkTimeout(std::uint64_t now_ms) { connection_.checkTimeout(now_ms); }

  /* The commands checked (login_probe.cc). */
  static constexpr std::size_t kCheckCount = 6;

 private:
  // BackendEvents
  void onConnectionReady(BackendConnection& connection) override;
  void onConnectionDown(BackendConnection& connection, std::vector<RequestPtr> unsent) override;
  void onRejected(BackendConnection&, RequestPtr, std::string_view) override {}
  // ReplySink, for the checks' replies
  void complete(Slot& slot, std::string_view reply) override;
  void sent(Slot&, const config::Address*) override {}
  router::ReadFloor* readFloor() override { return nullptr; }
  void answer(std::string_view reply);

  RequestPtr request_;
  std::shared_ptr<BackendLogin> login_;
  std::array<Slot, kCheckCount> slots_{};
  std::size_t checks_due_ = 0;
  BackendConnection connection_;  // last: its in-flight checks point at slots_
};

}  // namespace rhp::proxy
