#include "router/route_policy.h"

#include <strings.h>
#include <array>

namespace rhp::router {

namespace {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

template <std::size_t N>
bool isOneOf(std::string_view name, const std::array<std::string_view, N>& names) {
  for (auto candidate : names) {
    if (equalsIgnoreCase(name, candidate)) return true;
  }
  return false;
}

constexpr std::array<std::string_view, 13> kTopologyCommands = {
    "replicaof", "slaveof", "failover", "shutdown",  "debug", "sync",   "psync",
    "monitor",   "cluster", "readonly", "readwrite", "reset", "migrate"};

constexpr std::array<std::string_view, 7> kNeedsOwnConnection = {
    "multi", "exec", "discard", "watch", "unwatch", "wait", "waitaof"};

/* CLIENT subcommands that change how the backend connection behaves for
 * everyone multiplexed on it, or act on other clients. */
constexpr std::array<std::string_view, 7> kConnectionChangingClientSubcommands = {
    "reply", "kill", "pause", "unpause", "tracking", "caching", "no-evict"};

Route local(LocalCommand command, const CommandSpec* spec) {
  return {TargetKind::Local, command, Refusal::None, spec};
}

Route refused(Refusal why, const CommandSpec* spec) {
  return {TargetKind::Refused, LocalCommand::None, why, spec};
}

Route pickClient(const RouteRequest& request, const CommandSpec* spec) {
  if (equalsIgnoreCase(request.subcommand, "setname")) {
    return request.argc == 3 ? local(LocalCommand::ClientSetName, spec)
                             : refused(Refusal::WrongArity, spec);
  }
  if (equalsIgnoreCase(request.subcommand, "getname")) {
    return request.argc == 2 ? local(LocalCommand::ClientGetName, spec)
                             : refused(Refusal::WrongArity, spec);
  }
  if (isOneOf(request.subcommand, kConnectionChangingClientSubcommands)) {
    return refused(Refusal::NeedsDedicatedConnection, spec);
  }
  return {TargetKind::Master, LocalCommand::None, Refusal::None, spec};
}

}  // namespace

Route pickRoute(const RouteRequest& request) {
  const CommandSpec* spec = findCommand(request.name);
  if (spec != nullptr && !spec->arityAccepts(request.argc)) {
    return refused(Refusal::WrongArity, spec);
  }
  const std::string_view name = request.name;
  if (equalsIgnoreCase(name, "ping")) return local(LocalCommand::Ping, spec);
  if (equalsIgnoreCase(name, "echo")) return local(LocalCommand::Echo, spec);
  if (equalsIgnoreCase(name, "quit")) return local(LocalCommand::Quit, spec);
  if (equalsIgnoreCase(name, "select")) return local(LocalCommand::Select, spec);
  if (equalsIgnoreCase(name, "hello")) return local(LocalCommand::Hello, spec);
  if (equalsIgnoreCase(name, "auth")) return local(LocalCommand::Auth, spec);
  if (equalsIgnoreCase(name, "client")) return pickClient(request, spec);
  if (isOneOf(name, kTopologyCommands)) return refused(Refusal::Topology, spec);
  if (isOneOf(name, kNeedsOwnConnection)) return refused(Refusal::NeedsDedicatedConnection, spec);
  if (equalsIgnoreCase(name, "xread") || equalsIgnoreCase(name, "xreadgroup")) {
    // Only the BLOCK form blocks; a plain XREAD is an ordinary read.
    for (std::size_t i = 1; i < request.argc; ++i) {
      const std::string_view arg = request.args[i];
      if (equalsIgnoreCase(arg, "streams")) break;
      if (equalsIgnoreCase(arg, "block")) return refused(Refusal::NeedsDedicatedConnection, spec);
    }
    return {TargetKind::Master, LocalCommand::None, Refusal::None, spec};
  }
  if (spec != nullptr && (spec->has(kPubSub) || spec->has(kBlocking))) {
    // PUBLISH and SPUBLISH are pub/sub flagged but are ordinary writes.
    if (!equalsIgnoreCase(name, "publish") && !equalsIgnoreCase(name, "spublish") &&
        !equalsIgnoreCase(name, "pubsub")) {
      return refused(Refusal::NeedsDedicatedConnection, spec);
    }
  }
  return {TargetKind::Master, LocalCommand::None, Refusal::None, spec};
}

}  // namespace rhp::router
