#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "commands/resp_protocol.h"
#include "config/config.h"
#include "router/route_policy.h"

namespace rhp::proxy {

/* Per-client connection state the proxy owns and applies to whichever
 * backend connection serves the client. */
struct ClientState {
  std::uint32_t db = 0;
  std::string name;
  bool authenticated = false;
  commands::Resp resp = commands::Resp::V2;  // HELLO's protocol
  std::uint64_t id = 0;                      // what HELLO and CLIENT ID report

  /* What RESET leaves: db 0, no name, RESP2, logged out when a password is
   * set. */
  void reset(const config::Config::Proxy& settings) {
    db = 0;
    name.clear();
    resp = commands::Resp::V2;
    authenticated = settings.password.empty();
  }
};

struct LocalAnswer {
  std::string reply;
  bool close_after = false;
};

/* Answers PING, ECHO, QUIT, SELECT, HELLO, AUTH, RESET and CLIENT
 * SETNAME/GETNAME as redis-server would, updating `state`. */
LocalAnswer answerLocally(router::LocalCommand command, const commands::ArgAccess& args,
                          std::size_t argc, ClientState& state,
                          const config::Config::Proxy& settings);

}  // namespace rhp::proxy
