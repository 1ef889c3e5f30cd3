#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "commands/command_table.h"
#include "commands/route_request.h"

namespace rhp::commands {

/* Why the proxy answers a request with an error instead of forwarding it. */
enum class Refusal {
  None,
  /* Redis classifies it @admin or @dangerous (or flags it admin): it would
   * reconfigure, stop or inspect a node behind Sentinel's back, or show
   * other clients' traffic. routing.allow_commands lifts it. */
  Disabled,
  /* Turns the shared backend connection into a stream or a mode the proxy
   * cannot carry (MONITOR, SYNC, CLIENT REPLY, ...): never proxied. */
  Unproxyable,
  /* Argument count does not match the command's arity. */
  WrongArity,
  /* A command, subcommand or parameter name with a NUL byte: Redis could
   * resolve it to another command than the proxy's table says. */
  AmbiguousName,
  /* A container's second argument names no subcommand the proxy knows;
   * answered with Redis's own error. */
  UnknownSubcommand,
  /* Reads or changes credentials (the proxy's own backend user among
   * them): never proxied, whatever routing.allow_commands says. */
  Credentials,
  /* The client's user (proxy.users) may not run it, or not on keys or
   * channels (detail "keys", "channels"): Redis's NOPERM. */
  NoPerm,
};

struct RefusalVerdict {
  Refusal why = Refusal::None;
  /* The argument or parameter the error names (a view into the request or
   * a static string); empty when the command name says it all. */
  std::string_view detail;
};

/* Commands an operator re-enabled (routing.allow_commands): lower-case
 * names, "config" for every subcommand or "config|set" for one. */
class AllowList {
 public:
  AllowList() = default;
  explicit AllowList(std::vector<std::string> names);
  bool allows(std::string_view command, std::string_view subcommand) const;

 private:
  std::vector<std::string> names_;
};

/* For the config loader's checks of routing.allow_commands, by "name" or
 * "name|subcommand" as the built-in table spells them: disabled by default
 * (a container counts when any subcommand is), never proxied, and never
 * allowed (credentials). */
bool isDisabledByDefault(std::string_view name);
bool isUnproxyable(std::string_view name);
bool isNeverAllowed(std::string_view name);

/* The commands Redis marks @admin or @dangerous that the proxy still lets
 * through by default, for the README's ACL line and its test. */
std::vector<std::string_view> applicationExceptions();

/* NUL in the command name, or in the second argument when Redis would look
 * that up as a subcommand (`subcommand_is_a_name`). */
RefusalVerdict ambiguousName(const RouteRequest& request, bool subcommand_is_a_name);

/* The refusal, if any, for a request Redis will run as `spec`. `learned`:
 * the row came from the master's COMMAND, not from the built-in table. */
RefusalVerdict refusalFor(const CommandSpec& spec, bool learned, const RouteRequest& request,
                          const AllowList& allowed);

}  // namespace rhp::commands
