#include "router/route_policy.h"

#include <strings.h>

#include <algorithm>
#include <array>
#include <optional>

namespace rhp::router {

namespace {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

/* Would reconfigure, stop or stall a node behind Sentinel's and the proxy's
 * back, or act on other clients' connections. */
constexpr std::array<std::string_view, 21> kDisabledByDefault = {
    "bgrewriteaof",   "bgsave",    "client|kill",      "client|pause",   "client|unblock",
    "client|unpause", "cluster",   "config|resetstat", "config|rewrite", "config|set",
    "debug",          "failover",  "module|load",      "module|loadex",  "module|unload",
    "readonly",       "readwrite", "replicaof",        "save",           "shutdown",
    "slaveof"};

/* Turn the connection into a stream or a mode that a pooled connection
 * cannot carry and the proxy does not emulate. */
constexpr std::array<std::string_view, 7> kUnproxyable = {
    "client|caching", "client|no-evict", "client|reply", "client|tracking",
    "monitor",        "psync",           "sync"};

template <std::size_t N>
bool listed(const std::array<std::string_view, N>& names, std::string_view spec_name) {
  return std::find(names.begin(), names.end(), spec_name) != names.end();
}

Route make(TargetKind target, const CommandSpec* spec) {
  return {target, LocalCommand::None, Refusal::None, spec};
}

Route local(LocalCommand command, const CommandSpec* spec) {
  return {TargetKind::Local, command, Refusal::None, spec};
}

Route refused(Refusal why, const CommandSpec* spec) {
  return {TargetKind::Refused, LocalCommand::None, why, spec};
}

/* XREAD and XREADGROUP block only with a BLOCK option before STREAMS. */
bool hasBlockOption(const RouteRequest& request) {
  for (std::size_t i = 1; i < request.argc; ++i) {
    const std::string_view arg = request.args[i];
    if (equalsIgnoreCase(arg, "streams")) return false;
    if (equalsIgnoreCase(arg, "block")) return true;
  }
  return false;
}

std::optional<Route> pickConnectionCommand(const RouteRequest& request, const CommandSpec* spec) {
  const std::string_view name = spec->name;
  if (name == "ping") return local(LocalCommand::Ping, spec);
  if (name == "echo") return local(LocalCommand::Echo, spec);
  if (name == "quit") return local(LocalCommand::Quit, spec);
  if (name == "select") return local(LocalCommand::Select, spec);
  if (name == "hello") return local(LocalCommand::Hello, spec);
  if (name == "auth") return local(LocalCommand::Auth, spec);
  if (name == "reset") return local(LocalCommand::Reset, spec);
  if (name == "client|setname") return local(LocalCommand::ClientSetName, spec);
  if (name == "client|getname") return local(LocalCommand::ClientGetName, spec);
  (void)request;
  return std::nullopt;
}

}  // namespace

AllowList::AllowList(std::vector<std::string> names) : names_(std::move(names)) {
  for (auto& name : names_) {
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  }
}

bool AllowList::allows(std::string_view command, std::string_view subcommand_spec) const {
  for (const auto& name : names_) {
    if (name == command || name == subcommand_spec) return true;
  }
  return false;
}

bool isDisabledByDefault(std::string_view name) {
  return std::any_of(kDisabledByDefault.begin(), kDisabledByDefault.end(), [&](auto listed_name) {
    return listed_name == name ||
           (listed_name.starts_with(name) && listed_name.size() > name.size() &&
            listed_name[name.size()] == '|');
  });
}

bool isUnproxyable(std::string_view name) {
  return listed(kUnproxyable, name);
}

Route pickRoute(const RouteRequest& request, const AllowList& allowed,
                const LearnedCommands* learned) {
  // Not a Redis command: the proxy's own, so it never reaches a backend.
  if (equalsIgnoreCase(request.name, "proxy")) return local(LocalCommand::Proxy, nullptr);
  const CommandSpec* spec = findCommand(request.name, request.subcommand);
  if (spec == nullptr && learned != nullptr) spec = learned->find(request.name, request.subcommand);
  if (spec == nullptr) return make(TargetKind::Master, nullptr);
  if (!spec->arityAccepts(request.argc)) return refused(Refusal::WrongArity, spec);
  if (auto route = pickConnectionCommand(request, spec)) return *route;

  const std::string_view name = spec->name;
  const std::string_view container = name.substr(0, name.find('|'));
  if (listed(kUnproxyable, name)) return refused(Refusal::Unproxyable, spec);
  if (listed(kDisabledByDefault, name) || listed(kDisabledByDefault, container)) {
    return allowed.allows(container, name) ? make(TargetKind::Master, spec)
                                           : refused(Refusal::Disabled, spec);
  }
  if (name == "multi" || name == "exec" || name == "discard" || name == "watch" ||
      name == "unwatch") {
    return make(TargetKind::Transaction, spec);
  }
  if (name == "subscribe" || name == "psubscribe" || name == "ssubscribe" ||
      name == "unsubscribe" || name == "punsubscribe" || name == "sunsubscribe") {
    return make(TargetKind::PubSub, spec);
  }
  if (name == "xread" || name == "xreadgroup") {
    if (hasBlockOption(request)) return make(TargetKind::Blocking, spec);
    return make(name == "xread" ? TargetKind::Read : TargetKind::Master, spec);
  }
  // WAIT is not flagged blocking, but it blocks its connection until replicas ack.
  if (spec->has(kBlocking) || name == "wait") return make(TargetKind::Blocking, spec);
  if (name == "scan" || name == "sscan" || name == "hscan" || name == "zscan") {
    return make(TargetKind::Scan, spec);
  }
  // Redis does not replicate SCRIPT LOAD: EVALSHA_RO on a replica needs its own copy.
  if (name == "script|load" || name == "script|flush") return make(TargetKind::Broadcast, spec);
  if (spec->has(kReadOnly) && !spec->has(kWrite)) return make(TargetKind::Read, spec);
  return make(TargetKind::Master, spec);
}

std::size_t cursorIndex(const Route& route) {
  return route.spec != nullptr && route.spec->name == "scan" ? 1 : 2;
}

}  // namespace rhp::router
