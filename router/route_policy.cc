#include "router/route_policy.h"

#include <strings.h>

#include "commands/redis_match.h"

#include <algorithm>
#include <array>
#include <optional>

namespace rhp::router {

using namespace commands;

namespace {

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

/* The commands about the client's own connection, which the proxy answers. */
LocalCommand localCommandOf(Family family) {
  switch (family) {
    case Family::Ping:
      return LocalCommand::Ping;
    case Family::Echo:
      return LocalCommand::Echo;
    case Family::Quit:
      return LocalCommand::Quit;
    case Family::Select:
      return LocalCommand::Select;
    case Family::Hello:
      return LocalCommand::Hello;
    case Family::Auth:
      return LocalCommand::Auth;
    case Family::Reset:
      return LocalCommand::Reset;
    case Family::ClientSetName:
      return LocalCommand::ClientSetName;
    case Family::ClientGetName:
      return LocalCommand::ClientGetName;
    case Family::AclWhoami:
      return LocalCommand::AclWhoami;
    default:
      return LocalCommand::None;
  }
}

}  // namespace

Route pickRoute(const RouteRequest& request, const AllowList& allowed,
                const LearnedCommands* learned) {
  // Not a Redis command: the proxy's own, so it never reaches a backend.
  if (equalsIgnoreCase(request.name, "proxy")) return local(LocalCommand::Proxy, nullptr);
  const Resolution resolved =
      resolveCommand(request.name, request.subcommand, request.argc, learned);
  // argv[1] is a name when Redis looks it up among subcommands. A command
  // neither the built-in table nor the master's COMMAND knows is answered
  // "unknown command" whatever follows it (lookupCommandLogic stops at
  // argv[0]); before the master's table is learned it could be a module's
  // container, so a NUL there is refused.
  const bool unknown_to_master =
      resolved.spec == nullptr && resolved.container == nullptr && learned != nullptr;
  const bool subcommand_is_a_name =
      (resolved.spec == nullptr && !unknown_to_master) ||
      (resolved.spec != nullptr && resolved.spec->has(kHasSubcommands)) || resolved.container;
  if (auto verdict = ambiguousName(request, subcommand_is_a_name); verdict.why != Refusal::None) {
    return refused(verdict, resolved.spec);
  }
  if (resolved.container != nullptr) {
    return refused({Refusal::UnknownSubcommand, request.subcommand}, resolved.container);
  }
  const CommandSpec* spec = resolved.spec;
  if (spec == nullptr) return make(TargetKind::Master, nullptr);
  if (!spec->arityAccepts(request.argc)) return refused({Refusal::WrongArity, {}}, spec);
  if (const LocalCommand command = localCommandOf(spec->family); command != LocalCommand::None) {
    return local(command, spec);
  }
  if (auto verdict = refusalFor(*spec, resolved.learned, request, allowed);
      verdict.why != Refusal::None) {
    return refused(verdict, spec);
  }
  switch (spec->family) {
    case Family::Multi:
    case Family::Exec:
    case Family::Discard:
    case Family::Watch:
    case Family::Unwatch:
      return make(TargetKind::Transaction, spec);
    case Family::Subscribe:
    case Family::Unsubscribe:
      return make(TargetKind::PubSub, spec);
    case Family::StreamRead:
      // Flagged blocking, they block only with BLOCK. Without it XREAD
      // reads and XREADGROUP writes (it moves the group's cursor).
      if (hasBlockOption(request)) return make(TargetKind::Blocking, spec);
      return make(spec->has(kWrite) ? TargetKind::Master : TargetKind::Read, spec);
    case Family::Wait:
      return make(TargetKind::Blocking, spec);
    case Family::Scan:
    case Family::KeyScan:
      return make(TargetKind::Scan, spec);
    case Family::ScriptCopy:
      return make(TargetKind::Broadcast, spec);
    default:
      break;
  }
  if (spec->has(kBlocking)) return make(TargetKind::Blocking, spec);
  if (spec->has(kReadOnly) && !spec->has(kWrite)) return make(TargetKind::Read, spec);
  return make(TargetKind::Master, spec);
}

std::size_t cursorIndex(const Route& route) {
  return route.spec != nullptr && route.spec->family == Family::Scan ? 1 : 2;
}

}  // namespace rhp::router
