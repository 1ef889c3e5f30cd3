#pragma once

#include <cstddef>
#include <string_view>

#include "router/command_table.h"

namespace rhp::router {

/* Where a request goes. Master is the only backend target for now; read
 * splitting adds replica targets here and nowhere else. */
enum class TargetKind { Master, Local, Refused };

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
  ClientGetName
};

enum class Refusal {
  None,
  /* Would reconfigure or stop a node behind the proxy's back, or hijack a
   * shared backend connection (REPLICAOF, SHUTDOWN, MONITOR, ...). */
  Topology,
  /* Needs a backend connection of its own (transactions, pub/sub, blocking
   * commands, per-connection modes) which the proxy does not offer yet. */
  NeedsDedicatedConnection,
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
  const CommandSpec* spec = nullptr;  // nullptr: unknown to the table
};

/* The one place that decides where a request goes. Unknown commands go to
 * the master, which answers them as redis-server would. */
Route pickRoute(const RouteRequest& request);

}  // namespace rhp::router
