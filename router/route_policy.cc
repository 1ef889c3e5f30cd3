#include "router/route_policy.h"

#include <strings.h>

#include "commands/redis_match.h"

#include <algorithm>
#include <array>
#include <optional>

namespace rhp::router {

using namespace commands;

namespace {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

Route make(TargetKind target, const CommandSpec* spec) {
  return {target, LocalCommand::None, Refusal::None, spec, {}};
}

Route local(LocalCommand command, const CommandSpec* spec) {
  return {TargetKind::Local, command, Refusal::None, spec, {}};
}

Route refused(RefusalVerdict verdict, const CommandSpec* spec) {
  return {TargetKind::Refused, LocalCommand::None, verdict.why, spec, verdict.detail};
}

/* XREAD and XREADGROUP block only with a BLOCK option before STREAMS. The
 * options are walked as Redis's xreadCommand walks them, each skipping its
 * values: a group or consumer named "streams" is not the STREAMS keyword.
 * Erring towards "blocks" only costs a dedicated connection. */
bool hasBlockOption(const RouteRequest& request) {
  for (std::size_t i = 1; i < request.argc; ++i) {
    const std::size_t more = request.argc - i - 1;
    const std::string_view arg = request.args[i];
    if (redisKeywordEquals(arg, "block") && more > 0) return true;
    if (redisKeywordEquals(arg, "count") && more > 0) {
      ++i;
    } else if (redisKeywordEquals(arg, "streams") && more > 0) {
      return false;
    } else if (redisKeywordEquals(arg, "group") && more >= 2) {
      i += 2;
    } else if (!redisKeywordEquals(arg, "noack")) {
      return false;  // Redis answers a syntax error
    }
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

Route pickRoute(const RouteRequest& request, const AllowList& allowed,
                const LearnedCommands* learned) {
  // Not a Redis command: the proxy's own, so it never reaches a backend.
  if (equalsIgnoreCase(request.name, "proxy")) return local(LocalCommand::Proxy, nullptr);
  const Resolution resolved =
      resolveCommand(request.name, request.subcommand, request.argc, learned);
  const bool container_or_unknown =
      resolved.spec == nullptr || resolved.spec->has(kHasSubcommands) || resolved.container;
  if (auto verdict = ambiguousName(request, container_or_unknown); verdict.why != Refusal::None) {
    return refused(verdict, resolved.spec);
  }
  if (resolved.container != nullptr) {
    return refused({Refusal::UnknownSubcommand, request.subcommand}, resolved.container);
  }
  const CommandSpec* spec = resolved.spec;
  if (spec == nullptr) return make(TargetKind::Master, nullptr);
  if (!spec->arityAccepts(request.argc)) return refused({Refusal::WrongArity, {}}, spec);
  if (auto route = pickConnectionCommand(request, spec)) return *route;
  if (auto verdict = refusalFor(*spec, resolved.learned, request, allowed);
      verdict.why != Refusal::None) {
    return refused(verdict, spec);
  }

  const std::string_view name = spec->name;
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
