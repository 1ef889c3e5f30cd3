#include "proxy/login_probe.h"

#include "router/errors.h"

namespace rhp::proxy {

namespace {

/* The commands the proxy answers itself (proxy/local_commands.h) that
 * Redis checks against the user's rules; AUTH, HELLO, RESET and QUIT are
 * everyone's, as the router treats them. Harmless on a connection that is
 * closed next: SELECT 0 and a name nobody sees. */
/* What runs as the user, and the rule that refuses it in the proxy. */
struct Check {
  std::string_view command;  // RESP
  std::string_view rule;
};
constexpr std::array<Check, LoginProbe::kCheckCount> kChecks{{
    {"*1\r\n$4\r\nPING\r\n", "-ping"},
    {"*2\r\n$4\r\nECHO\r\n$1\r\nx\r\n", "-echo"},
    {"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n", "-select"},
    {"*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$26\r\nredis-ha-proxy-login-check\r\n",
     "-client|setname"},
    {"*2\r\n$6\r\nCLIENT\r\n$7\r\nGETNAME\r\n", "-client|getname"},
    {"*2\r\n$3\r\nACL\r\n$6\r\nWHOAMI\r\n", "-acl|whoami"},
}};

}  // namespace

LoginProbe::LoginProbe(uv_loop_t* loop, const config::Address& address,
                       const config::Config::Backend& settings, const BackendTls& tls,
                       std::shared_ptr<BackendLogin> login, RequestPtr request,
                       FlushList<BackendConnection>& flush_list, EventClock& clock)
    : request_(std::move(request)),
      login_(login),
      connection_(loop, address, settings, tls, static_cast<BackendEvents&>(*this), flush_list,
                  clock, commands::Resp::V2, std::move(login)) {
  connection_.connect();
}

LoginProbe::~LoginProbe() {
  if (request_) answer(errors::kLoginUnchecked);
}

void LoginProbe::answer(std::string_view reply) {
  RequestPtr request = std::move(request_);
  deliverReply(*request, reply);
}

/* Ready means the node answered the login's AUTH without an error
 * (BackendConnection holds a passthrough connection in Verifying until
 * then): the user exists and the password is right. */
void LoginProbe::onConnectionReady(BackendConnection&) {
  if (!request_ || checks_due_ > 0) return;
  login_->refused.clear();
  for (std::size_t i = 0; i < kChecks.size(); ++i) {
    RequestPtr check = newRequest();
    check->payload = kChecks[i].command;
    check->reply_to = {static_cast<ReplySink*>(this), &slots_[i]};
    connection_.send(std::move(check));
  }
  checks_due_ = kChecks.size();
}

void LoginProbe::complete(Slot& slot, std::string_view reply) {
  if (!request_ || checks_due_ == 0) return;
  if (reply.starts_with("-NOPERM")) {
    login_->refused.emplace_back(kChecks[static_cast<std::size_t>(&slot - slots_.data())].rule);
  } else if (reply == errors::kMasterLostInFlight || reply == errors::kRequestTimeout ||
             reply == errors::kFailedOverInFlight) {
    // The proxy's own words for a connection that broke or a node that
    // went silent: the check did not finish, and the client may try again.
    // Any other error (a renamed command, -LOADING) is not about the
    // user's rights: the proxy answers that command as it would anyway.
    answer(errors::kLoginUnchecked);
    return;
  }
  if (--checks_due_ == 0) answer("+OK\r\n");
}

void LoginProbe::onConnectionDown(BackendConnection& connection, std::vector<RequestPtr>) {
  if (!request_) return;
  if (!connection.loginRefusal().empty()) {
    answer(connection.loginRefusal());
  } else {
    answer(errors::kLoginUnchecked);
  }
}

}  // namespace rhp::proxy
