#include "router/refusal_reply.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace rhp::router {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  return out;
}

/* "config|set" as a client types it. */
std::string spaced(std::string_view spec_name) {
  std::string out(spec_name);
  std::replace(out.begin(), out.end(), '|', ' ');
  return out;
}

}  // namespace

std::string wrongArityReply(std::string_view command_name) {
  return fmt::format("-ERR wrong number of arguments for '{}' command\r\n", lower(command_name));
}

std::string refusalReply(commands::Refusal why, std::string_view command_name,
                         std::string_view detail) {
  const std::string name = lower(command_name);
  switch (why) {
    case commands::Refusal::WrongArity:
      return wrongArityReply(name);
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
    case commands::Refusal::NoPerm:
      // redis-server 7.0's words, with the table's name ("config|set").
      if (!detail.empty()) {  // "keys" or "channels"
        return fmt::format(
            "-NOPERM this user has no permissions to access one of the {} used as arguments\r\n",
            detail);
      }
      // A refused EXEC aborts the transaction, and Redis says so first.
      return fmt::format("-{}NOPERM this user has no permissions to run the '{}' command\r\n",
                         name == "exec" ? "EXECABORT Transaction discarded because of: " : "",
                         name);
    case commands::Refusal::None:
      break;
  }
  return "-ERR internal error: refusal without a reason\r\n";
}

}  // namespace rhp::router
