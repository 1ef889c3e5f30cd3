#include "proxy/local_commands.h"

#include <fmt/format.h>
#include <strings.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "proxy/errors.h"
#include "proxy/same_secret.h"
#include "proxy/version.h"

namespace rhp::proxy {

namespace {

std::string bulk(std::string_view value) {
  return fmt::format("${}\r\n{}\r\n", value.size(), value);
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  return out;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::string wrongArity(std::string_view name) {
  return fmt::format("-ERR wrong number of arguments for '{}' command\r\n", lower(name));
}

/* "config|set" as a client types it. */
std::string spaced(std::string_view spec_name) {
  std::string out(spec_name);
  std::replace(out.begin(), out.end(), '|', ' ');
  return out;
}

bool validClientName(std::string_view name) {
  // redis-server rejects names that would break CLIENT LIST's format.
  return std::all_of(name.begin(), name.end(), [](char c) { return c > ' ' && c <= '~'; });
}

/* AUTH <password> and AUTH <user> <password> (HELLO's AUTH too) as Redis
 * answers them with only the `default` user: proxy.password is its
 * password (requirepass); with none, `default` is nopass. `user` is empty
 * for the one-argument form. */
std::string checkPassword(std::string_view user, std::string_view given, ClientState& state,
                          const config::Config::Proxy& settings) {
  const bool named = !user.empty();
  if (named && user != "default") return std::string(errors::kWrongPass);
  if (settings.password.empty()) {
    if (!named) return std::string(errors::kAuthNotConfigured);
  } else if (!sameSecret(given, settings.password)) {
    return std::string(errors::kWrongPass);
  }
  state.authenticated = true;
  return "+OK\r\n";
}

LocalAnswer hello(const commands::ArgAccess& args, std::size_t argc, ClientState& state,
                  const config::Config::Proxy& settings) {
  std::size_t next = 1;
  if (argc >= 2) {
    long long version = 0;
    const std::string_view text = args[1];
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), version);
    if (ec != std::errc{} || end != text.data() + text.size()) {
      return {"-ERR Protocol version is not an integer or out of range\r\n"};
    }
    // RESP3 clients (redis-py 5, lettuce, go-redis) fall back to RESP2 on
    // NOPROTO; the proxy forwards backend bytes untouched, so it speaks RESP2.
    if (version != 2) return {std::string(errors::kNoProto)};
    next = 2;
  }
  std::string new_name = state.name;
  for (; next < argc; ++next) {
    const std::string_view option = args[next];
    if (equalsIgnoreCase(option, "auth") && next + 2 < argc) {
      std::string result = checkPassword(args[next + 1], args[next + 2], state, settings);
      if (result != "+OK\r\n") return {std::move(result)};
      next += 2;
    } else if (equalsIgnoreCase(option, "setname") && next + 1 < argc) {
      if (!validClientName(args[next + 1])) {
        return {"-ERR Client names cannot contain spaces, newlines or special characters.\r\n"};
      }
      new_name = args[next + 1];
      next += 1;
    } else {
      return {fmt::format("-ERR Syntax error in HELLO option '{}'\r\n", option)};
    }
  }
  if (!settings.password.empty() && !state.authenticated) {
    return {
        "-NOAUTH HELLO must be called with the client already authenticated, otherwise the "
        "HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and "
        "select the RESP protocol version at the same time\r\n"};
  }
  state.name = std::move(new_name);
  std::string reply = "*14\r\n";
  reply += bulk("server") + bulk("redis");
  reply += bulk("version") + bulk(kVersion);
  reply += bulk("proto") + ":2\r\n";
  reply += bulk("id") + ":0\r\n";
  reply += bulk("mode") + bulk("standalone");
  reply += bulk("role") + bulk("master");
  reply += bulk("modules") + "*0\r\n";
  return {std::move(reply)};
}

}  // namespace

LocalAnswer answerLocally(router::LocalCommand command, const commands::ArgAccess& args,
                          std::size_t argc, ClientState& state,
                          const config::Config::Proxy& settings) {
  using router::LocalCommand;
  switch (command) {
    case LocalCommand::Ping:
      if (argc > 2) return {wrongArity("ping")};
      return {argc == 2 ? bulk(args[1]) : "+PONG\r\n"};
    case LocalCommand::Echo:
      return {bulk(args[1])};
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
      return hello(args, argc, state, settings);
    case LocalCommand::Auth:
      if (argc > 3) return {std::string(errors::kSyntax)};
      return {
          checkPassword(argc == 3 ? args[1] : std::string_view{}, args[argc - 1], state, settings)};
    case LocalCommand::ClientSetName:
      if (!validClientName(args[2])) {
        return {"-ERR Client names cannot contain spaces, newlines or special characters.\r\n"};
      }
      state.name = args[2];
      return {"+OK\r\n"};
    case LocalCommand::ClientGetName:
      return {state.name.empty() ? "$-1\r\n" : bulk(state.name)};
    case LocalCommand::Reset:
      state.reset(settings);
      return {"+RESET\r\n"};
    case LocalCommand::Proxy:  // the session answers it: it needs the worker's view
    case LocalCommand::None:
      break;
  }
  return {"-ERR internal error: no local answer for this command\r\n"};
}

std::string refusalReply(commands::Refusal why, std::string_view command_name,
                         std::string_view detail) {
  const std::string name = lower(command_name);
  switch (why) {
    case commands::Refusal::WrongArity:
      return wrongArity(name);
    case commands::Refusal::Disabled:
      return fmt::format(
          "-ERR '{}' is disabled by redis-ha-proxy: it would change a node behind Sentinel's "
          "back. Run it against the node directly, or add \"{}\" to routing.allow_commands\r\n",
          spaced(name), name);
    case commands::Refusal::Unproxyable:
      return fmt::format(
          "-ERR '{}' cannot be used through redis-ha-proxy: it turns the connection into a "
          "stream or mode a proxied connection cannot carry. Connect to the node directly\r\n",
          spaced(name));
    case commands::Refusal::AmbiguousName:
      // The name itself is not echoed: it holds bytes an error line must not.
      return "-ERR redis-ha-proxy refuses command, subcommand and parameter names that contain a "
             "NUL byte: Redis could run them as another command\r\n";
    case commands::Refusal::UnknownSubcommand: {
      // redis-server's own words: the subcommand as sent (at most 128 bytes,
      // line breaks made spaces), the container upper case.
      std::string sub(detail.substr(0, 128));
      std::replace_if(
          sub.begin(), sub.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
      std::string container = spaced(name);
      std::transform(container.begin(), container.end(), container.begin(), [](char c) {
        return static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      });
      return fmt::format("-ERR unknown subcommand '{}'. Try {} HELP.\r\n", sub, container);
    }
    case commands::Refusal::Credentials:
      if (!detail.empty()) {
        return fmt::format(
            "-ERR CONFIG parameter '{}' is refused by redis-ha-proxy: it holds credentials. "
            "Name the parameters you need\r\n",
            detail);
      }
      return fmt::format(
          "-ERR '{}' is refused by redis-ha-proxy: it reads or changes users and passwords, "
          "the proxy's own among them. Manage users on the nodes directly\r\n",
          spaced(name));
    case commands::Refusal::None:
      break;
  }
  return "-ERR internal error: refusal without a reason\r\n";
}

}  // namespace rhp::proxy
