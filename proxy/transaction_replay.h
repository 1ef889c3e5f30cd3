#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "commands/command_table.h"
#include "proxy/request.h"

namespace rhp::proxy {

/* What a client's transaction left on a master connection that was lost
 * before its EXEC, and what the next connection must do about it.
 *
 * Redis runs nothing of a MULTI block before EXEC, and forgets the block
 * (and every WATCH) when the connection closes. So a transaction whose EXEC
 * never reached the old master (the write fence holds it from the first
 * failover event) ran nothing there, and:
 * - without WATCH it is replayed whole on the next connection: MULTI and
 *   the commands already queued go again (their replies, which the client
 *   already has, are dropped), then the client's own requests follow;
 * - with WATCH it cannot be replayed (the watched keys' versions are gone),
 *   so its EXEC answers a nil reply, as Redis does when a watched key was
 *   touched (a failover touches every key), and a DISCARD ends the block
 *   on the new connection.
 * A transaction with anything in flight when the connection was lost (an
 * EXEC above all: its outcome is the old master's) is not replayed; the
 * lane aborts it as before. */
class TransactionReplay {
 public:
  /* A request of `request.txn` was written to the connection. */
  void noteSent(const Request& request);

  /* The connection was lost. `in_flight`: requests written to it and not
   * answered (BackendConnection::lostInFlight), plus the transaction's
   * requests it gave back unsent. Returns the requests that restore the
   * transaction on the next connection, to go first (possibly none), or
   * nullopt when it cannot be restored and must be aborted. */
  std::optional<std::vector<RequestPtr>> onLost(std::size_t in_flight);

  /* Redis refused a command the block queued (its reply was an error):
   * Redis would answer EXEC -EXECABORT, and a replay might not, so the
   * transaction is not replayed but aborted. */
  void noteQueueError(std::uint64_t txn);

  /* The transaction being followed (0: none). */
  std::uint64_t transaction() const { return id_; }
  /* `request` is the EXEC of a transaction whose WATCH was lost: answer it
   * nil and send DISCARD instead (discardFor). */
  bool answersNil(const Request& request) const;
  static RequestPtr discardFor(const Request& exec);

 private:
  struct Sent {
    std::string payload;
    std::uint32_t db = 0;
    commands::Family family = commands::Family::None;
    commands::Resp resp = commands::Resp::V2;
  };

  void restart(std::uint64_t id);

  std::uint64_t id_ = 0;
  std::vector<Sent> sent_;   // since its MULTI (or first WATCH), in order
  bool watched_ = false;     // a WATCH of it reached the connection
  bool multi_open_ = false;  // its MULTI reached the connection, no EXEC/DISCARD yet
  bool finished_ = false;    // its EXEC, DISCARD or RESET reached the connection
  bool nil_exec_ = false;    // a connection with its WATCH was lost
  bool dirty_ = false;       // a queued command was refused
};

}  // namespace rhp::proxy
