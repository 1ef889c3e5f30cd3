#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "commands/resp_protocol.h"
#include "config/acl_user.h"
#include "config/config.h"
#include "proxy/backend_login.h"
#include "router/route_policy.h"

namespace rhp::proxy {

/* Per-client connection state the proxy owns and applies to whichever
 * backend connection serves the client. */
struct ClientState {
  std::uint32_t db = 0;
  std::string name;
  bool authenticated = false;
  /* Who the client is (ACL WHOAMI) and what it may run; set once
   * authenticated, `default` before. */
  std::shared_ptr<const config::AclUser> user;
  /* proxy.auth = "passthrough": the Redis user its requests run as, once a
   * node accepted its AUTH (null before: it is not authenticated). */
  BackendLoginPtr login;
  commands::Resp resp = commands::Resp::V2;  // HELLO's protocol
  std::uint64_t id = 0;                      // what HELLO and CLIENT ID report

  /* What RESET leaves, and a new connection starts with: db 0, no name,
   * RESP2, the `default` user, authenticated only if it needs no password
   * (Redis's clearClientConnectionState). */
  void reset(const config::AclUsers& users) {
    db = 0;
    name.clear();
    resp = commands::Resp::V2;
    user = users.defaultUser();
    login = nullptr;
    authenticated = user->enabled && user->nopass;
  }
};

struct LocalAnswer {
  std::string reply;
  bool close_after = false;
};

/* Answers PING, ECHO, QUIT, SELECT, HELLO, AUTH, RESET, ACL WHOAMI and
 * CLIENT SETNAME/GETNAME as redis-server would, updating `state`; AUTH
 * checks `users`. */
LocalAnswer answerLocally(router::LocalCommand command, const commands::ArgAccess& args,
                          std::size_t argc, ClientState& state,
                          const config::Config::Proxy& settings, const config::AclUsers& users);

}  // namespace rhp::proxy
