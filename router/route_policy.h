#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "commands/command_table.h"
#include "commands/refusal_policy.h"
#include "commands/route_request.h"

namespace rhp::router {

// The router decides with the vocabulary of commands/: what a request is
// (its arguments, its command's row) and why one is refused.
using commands::AllowList;
using commands::ArgAccess;
using commands::CommandSpec;
using commands::LearnedCommands;
using commands::Refusal;
using commands::RefusalVerdict;
using commands::RouteRequest;

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
  AclWhoami,  // the client's own user: the proxy's, not its backend user
  Proxy,      // PROXY INFO / TOPOLOGY / CONFIG GET: the proxy's own admin commands
};

struct Route {
  TargetKind target = TargetKind::Master;
  LocalCommand local = LocalCommand::None;
  Refusal refusal = Refusal::None;
  const CommandSpec* spec = nullptr;  // the subcommand's row if any; nullptr: unknown
  std::string_view detail;            // what a refusal's error names (RefusalVerdict)
};

/* The one place that decides where a request goes. The command is resolved
 * as redis-server resolves it (resolveCommand), in the built-in table and
 * then in `learned` (the master's own COMMAND); a name Redis could read
 * differently is refused. Commands unknown to both tables go to the
 * master, which answers them as redis-server would. */
Route pickRoute(const RouteRequest& request, const AllowList& allowed = {},
                const LearnedCommands* learned = nullptr);

/* Position of the cursor argument of a Scan route (1 for SCAN, 2 for
 * SSCAN/HSCAN/ZSCAN). */
std::size_t cursorIndex(const Route& route);

}  // namespace rhp::router
