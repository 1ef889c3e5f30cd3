#include "proxy/local_commands.h"

#include <fmt/format.h>
#include <strings.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

#include "commands/redis_match.h"
#include "commands/resp_array.h"
#include "proxy/version.h"
#include "router/errors.h"
#include "router/refusal_reply.h"

namespace rhp::proxy {

namespace {

bool validClientName(std::string_view name) {
  // redis-server rejects names that would break CLIENT LIST's format.
  return std::all_of(name.begin(), name.end(), [](char c) { return c > ' ' && c <= '~'; });
}

/* AUTH <password> and AUTH <user> <password> (HELLO's AUTH too) as Redis
 * answers them: the one-argument form is the `default` user's, whose
 * password is proxy.password unless proxy.users defines it. An unknown
 * user, a disabled one and a wrong password get the same answer, so a
 * client cannot tell which names exist. */
std::string checkPassword(std::optional<std::string_view> name, std::string_view given,
                          ClientState& state, const config::AclUsers& users) {
  if (!name && users.defaultUser()->nopass) return std::string(errors::kAuthNotConfigured);
  auto user = name ? users.find(*name) : users.defaultUser();
  if (user == nullptr || !user->accepts(given)) return std::string(errors::kWrongPass);
  state.user = std::move(user);
  state.authenticated = true;
  return "+OK\r\n";
}

/* HELLO's reply: a map in RESP3, its flattened pairs in RESP2, with the
 * fields redis-server 7.0 sends. `id` is the proxy's own client id, and
 * `role` is what the client talks to: the master, through the proxy. */
std::string helloReply(const ClientState& state) {
  std::string reply = state.resp == commands::Resp::V3 ? "%7\r\n" : "*14\r\n";
  reply += commands::bulkString("server") + commands::bulkString("redis");
  reply += commands::bulkString("version") + commands::bulkString(kVersion);
  reply += commands::bulkString("proto") + fmt::format(":{}\r\n", static_cast<int>(state.resp));
  reply += commands::bulkString("id") + fmt::format(":{}\r\n", state.id);
  reply += commands::bulkString("mode") + commands::bulkString("standalone");
  reply += commands::bulkString("role") + commands::bulkString("master");
  reply += commands::bulkString("modules") + "*0\r\n";
  return reply;
}

/* As redis-server's helloCommand: the version first, then AUTH and SETNAME
 * in any order, all checked before anything changes. */
LocalAnswer hello(const commands::ArgAccess& args, std::size_t argc, ClientState& state,
                  const config::AclUsers& users) {
  std::size_t next = 1;
  std::optional<commands::Resp> version;
  if (argc >= 2) {
    long long number = 0;
    const std::string_view text = args[1];
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec != std::errc{} || end != text.data() + text.size()) {
      return {"-ERR Protocol version is not an integer or out of range\r\n"};
    }
    if (number != 2 && number != 3) return {std::string(errors::kNoProto)};
    version = number == 3 ? commands::Resp::V3 : commands::Resp::V2;
    next = 2;
  }
  std::string new_name = state.name;
  // As redis-server: the last AUTH's user and password are checked once
  // every option is (a bad SETNAME fails the HELLO before it logs in).
  std::optional<std::size_t> auth_at;
  for (; next < argc; ++next) {
    const std::string_view option = args[next];
    if (commands::equalsIgnoreCase(option, "auth") && next + 2 < argc) {
      auth_at = next;
      next += 2;
    } else if (commands::equalsIgnoreCase(option, "setname") && next + 1 < argc) {
      if (!validClientName(args[next + 1])) {
        return {"-ERR Client names cannot contain spaces, newlines or special characters.\r\n"};
      }
      new_name = args[next + 1];
      next += 1;
    } else {
      return {fmt::format("-ERR Syntax error in HELLO option '{}'\r\n", option)};
    }
  }
  if (auth_at) {
    std::string result = checkPassword(args[*auth_at + 1], args[*auth_at + 2], state, users);
    if (result != "+OK\r\n") return {std::move(result)};
  }
  if (!state.authenticated) {
    return {
        "-NOAUTH HELLO must be called with the client already authenticated, otherwise the "
        "HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and "
        "select the RESP protocol version at the same time\r\n"};
  }
  state.name = std::move(new_name);
  if (version) state.resp = *version;
  return {helloReply(state)};
}

}  // namespace

LocalAnswer answerLocally(router::LocalCommand command, const commands::ArgAccess& args,
                          std::size_t argc, ClientState& state,
                          const config::Config::Proxy& settings, const config::AclUsers& users) {
  using router::LocalCommand;
  switch (command) {
    case LocalCommand::Ping:
      if (argc > 2) return {router::wrongArityReply("ping")};
      return {argc == 2 ? commands::bulkString(args[1]) : "+PONG\r\n"};
    case LocalCommand::Echo:
      return {commands::bulkString(args[1])};
    case LocalCommand::Quit:
      return {"+OK\r\n", true};
    case LocalCommand::Select: {
      long long index = 0;
      const std::string_view text = args[1];
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), index);
      if (ec != std::errc{} || end != text.data() + text.size()) {
        return {std::string(errors::kNotAnInteger)};
      }
      if (index < 0 || index >= static_cast<long long>(settings.databases)) {
        return {std::string(errors::kInvalidDbIndex)};
      }
      state.db = static_cast<std::uint32_t>(index);
      return {"+OK\r\n"};
    }
    case LocalCommand::Hello:
      return hello(args, argc, state, users);
    case LocalCommand::Auth:
      if (argc > 3) return {std::string(errors::kSyntax)};
      return {checkPassword(argc == 3 ? std::optional(args[1]) : std::nullopt, args[argc - 1],
                            state, users)};
    case LocalCommand::AclWhoami:
      return {commands::bulkString(state.user->name)};
    case LocalCommand::ClientSetName:
      if (!validClientName(args[2])) {
        return {"-ERR Client names cannot contain spaces, newlines or special characters.\r\n"};
      }
      state.name = args[2];
      return {"+OK\r\n"};
    case LocalCommand::ClientGetName:
      return {state.name.empty() ? std::string(commands::nullBulk(state.resp))
                                 : commands::bulkString(state.name)};
    case LocalCommand::Reset:
      state.reset(users);
      return {"+RESET\r\n"};
    case LocalCommand::Proxy:  // the session answers it: it needs the worker's view
    case LocalCommand::None:
      break;
  }
  return {"-ERR internal error: no local answer for this command\r\n"};
}

}  // namespace rhp::proxy
