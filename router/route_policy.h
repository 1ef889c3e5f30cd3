#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "router/command_table.h"

namespace rhp::router {

/* Where a request goes, and on what kind of backend connection. */
enum class TargetKind {
  Master,       // a write, a script, an admin command, anything unknown
  Read,         // read-only: a replica or the master, per the read policy
  Scan,         // a SCAN-family cursor read: stays on the node that gave the cursor
  Broadcast,    // SCRIPT LOAD/FLUSH: the master answers, replicas get a copy
  Transaction,  // MULTI/EXEC/DISCARD/WATCH/UNWATCH: pins the client to a master connection
  Blocking,     // BLPOP & co, XREAD BLOCK, WAIT: a dedicated master connection
  PubSub,       // SUBSCRIBE & co: the client enters pub/sub mode on a dedicated connection
  Local,        // answered by the proxy
  Refused,      // answered by the proxy with an error
};

/* Commands whose answer the proxy owns because they describe the client's
 * own connection, not the data. */
enum class LocalCommand {
  None,
  Ping,
  Echo,
  Quit,
  Select,
  Hello,
  Auth,
  ClientSetName,
  ClientGetName,
  Reset,
  Proxy,  // PROXY INFO / TOPOLOGY / CONFIG GET: the proxy's own admin commands
};

enum class Refusal {
  None,
  /* Would reconfigure or stop a node behind the proxy's back (REPLICAOF,
   * SHUTDOWN, CONFIG SET, ...); routing.allow_commands lifts it. */
  Disabled,
  /* Turns the backend connection into a stream the proxy cannot follow
   * (MONITOR, SYNC, CLIENT REPLY OFF, ...): never proxied. */
  Unproxyable,
  /* Argument count does not match the command's arity. */
  WrongArity,
};

/* Reads argument i of the request being routed; the bytes stay in the
 * client's buffer, so routing copies nothing. */
struct ArgAccess {
  const void* context = nullptr;
  std::string_view (*read)(const void* context, std::size_t index) = nullptr;
  std::string_view operator[](std::size_t index) const { return read(context, index); }
};

/* What routing reads of a parsed request: plain values, no sockets. */
struct RouteRequest {
  std::string_view name;        // as the client sent it, any case
  std::string_view subcommand;  // second argument or empty
  std::size_t argc = 0;         // including the name
  ArgAccess args;               // all arguments, for the few commands that need them
};

struct Route {
  TargetKind target = TargetKind::Master;
  LocalCommand local = LocalCommand::None;
  Refusal refusal = Refusal::None;
  const CommandSpec* spec = nullptr;  // the subcommand's row if any; nullptr: unknown
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

/* Commands that are disabled unless allowed (a container such as "config"
 * counts when any subcommand is), and those never proxied, as "name" or
 * "name|subcommand". For the config loader's checks. */
bool isDisabledByDefault(std::string_view name);
bool isUnproxyable(std::string_view name);

/* The one place that decides where a request goes. Commands the built-in
 * table lacks are looked up in `learned` (the master's own COMMAND);
 * commands unknown to both go to the master, which answers them as
 * redis-server would. */
Route pickRoute(const RouteRequest& request, const AllowList& allowed = {},
                const LearnedCommands* learned = nullptr);

/* Position of the cursor argument of a Scan route (1 for SCAN, 2 for
 * SSCAN/HSCAN/ZSCAN). */
std::size_t cursorIndex(const Route& route);

}  // namespace rhp::router
