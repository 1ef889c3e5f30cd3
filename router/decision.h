#pragma once

#include <string>

#include "commands/acl_rules.h"
#include "commands/resp_protocol.h"
#include "commands/route_request.h"
#include "router/route_policy.h"

namespace rhp::router {

/* A client's WATCH/MULTI state, as Redis keeps it per connection. */
struct Transaction {
  bool watching = false;
  bool in_multi = false;
  bool poisoned = false;  // a command inside MULTI was refused: EXEC must abort
  bool broken = false;    // the dedicated connection was lost: EXEC must abort
  bool pinned() const { return watching || in_multi; }
  bool operator==(const Transaction&) const = default;
};

/* What a session knows of itself that changes where its next request goes. */
struct SessionFacts {
  bool authenticated = true;
  /* Pub/sub mode. In RESP2 Redis then takes only pub/sub commands, PING,
   * QUIT and RESET; in RESP3 anything, its pushes interleaved with replies. */
  bool subscribed = false;
  Transaction txn;
  commands::Resp resp = commands::Resp::V2;
  /* CLIENT TRACKING is on: Redis remembers the keys a connection read and
   * pushes their invalidations on it, so all of the client's commands go
   * over its own connection. */
  bool tracking = false;
  /* The commands the client's user may run (proxy.users); nullptr: all. */
  const commands::AclRules* permissions = nullptr;
};

/* What a request does to the client's CLIENT TRACKING state. */
enum class TrackingChange : std::uint8_t { None, On, Off };

/* How a forwarded request leaves its session. The shared ways (the
 * worker's pooled connections) are placed by place() when the request's
 * turn comes; the client's own connection passes the same write fence
 * (mayWriteOnDedicated). */
enum class Via {
  Master,     // the master pool: writes, scripts, admin, anything unknown
  Read,       // a replica or the master, per routing.read_policy
  ScanStart,  // a SCAN-family cursor 0: a read whose node answers the later cursors
  Scan,       // a later cursor: the node that issued it, or an error
  Broadcast,  // SCRIPT LOAD/FLUSH: the master answers, each replica gets a copy
  Dedicated,  // the client's own master connection: transactions, blocking commands
  PubSub,     // the client's own connection in subscribed mode
  /* The worker's connection for what must reach a busy master at once
   * (SCRIPT KILL, FUNCTION KILL): past the shared connections' pipelines,
   * the hold and the write fence. While a script runs, Redis reads nothing
   * more from the connection that sent it, so a KILL queued behind the
   * script would wait for the very script it is meant to end. */
  Urgent,
};

/* What the session does with a request. */
enum class Step {
  Answer,       // the proxy answers it as Redis would (Route::local names it)
  Reply,        // the proxy answers `reply`
  Forward,      // it goes to a backend `via`
  LeavePubSub,  // `reply` ends the pub/sub stream; the session leaves subscribed mode
};

/* What the proxy sends of its own on the dedicated connection first. */
enum class Before {
  Nothing,
  WaitMarker,  // WAIT: a write of the proxy's, so WAIT has a write of this connection to count
  Discard,     // an EXEC that must abort: the queued commands are discarded on the node
};

struct Decision {
  Route route;
  Step step = Step::Forward;
  Via via = Via::Master;
  std::string reply;         // Reply, LeavePubSub
  bool close_after = false;  // the connection closes once `reply` is written
  Before before = Before::Nothing;
  Transaction txn;                  // the transaction state after this request
  bool starts_transaction = false;  // a WATCH or MULTI that opens one: it gets a new id
  bool in_transaction = false;      // the request is part of the client's transaction
  bool resets_client = false;       // RESET: the client's state goes back to its defaults
  bool resets_connection = false;   // RESET on the dedicated connection: log in again behind it
  bool blank_arguments = false;     // AUTH/HELLO in subscribed mode: credentials stay here
  bool append_proxy_info = false;   // INFO: the master's reply gains the "# Proxy" section
  TrackingChange tracking = TrackingChange::None;
};

/* Where one request goes, from the command and the session's state alone:
 * the command is resolved and classified by pickRoute, then the session's
 * authentication, pub/sub mode and transaction decide. Pure: the session
 * executes the decision and keeps `txn`. */
Decision decide(const RouteRequest& request, const SessionFacts& session,
                const AllowList& allowed = {}, const LearnedCommands* learned = nullptr);

}  // namespace rhp::router
