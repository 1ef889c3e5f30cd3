#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "config/config.h"
#include "router/replica_selector.h"

namespace rhp::router {

/* What a worker knows of its nodes when a request's turn comes: the second
 * half of "where does a request go", after decide() chose the way. */
struct NodesView {
  config::Config::Routing::ReadPolicy read_policy = config::Config::Routing::ReadPolicy::Master;
  Balance balance = Balance::RoundRobin;
  /* The topology's master, and whether its pool takes requests now: it is
   * confirmed by Sentinel and ROLE, connected, and has not answered
   * READONLY since the last snapshot. */
  const config::Address* master = nullptr;
  bool master_ready = false;
  bool lease_valid = false;                 // the sentinels' write lease holds (health::WriteLease)
  bool hold_empty = true;                   // nothing waits in the hold queue ahead of this request
  std::span<const ReplicaChoice> replicas;  // eligible replicas; `address` set
};

enum class Node {
  Master,   // the master pool, now
  Hold,     // the hold queue, until the fence lifts (or failover.hold_ms ends)
  Replica,  // replicas[replica]
  Fail,     // answered with `error`
};

struct Placement {
  Node node = Node::Master;
  std::size_t replica = 0;
  std::string_view error;
};

/* The master takes writes now: ready, and the write lease holds. */
bool masterOpen(const NodesView& nodes);

/* The write fence, for every path that can write: a pooled write, and a
 * transaction's, blocking command's or script's dedicated connection to
 * `node`. False from the first failover event on, while the write lease is
 * lapsed, and for a connection to any node but the current master. */
bool mayWriteTo(const config::Address& node, const NodesView& nodes);

/* What a request on a client's own connection waits for. */
enum class Fence {
  None,   // pub/sub writes nothing
  Lease,  // a blocking read outside a transaction (XREAD BLOCK): the write lease only
  Write,  // anything that can write: the write fence (mayWriteTo)
};

/* Transactions, blocking commands and scripts write too: they pass the
 * same fence as pooled writes. */
Fence dedicatedFence(bool pubsub, bool in_transaction, bool read);

/* Whether a request behind `fence` may go to `node` (the connection's
 * master; none yet: it may not) now. */
bool fencePasses(Fence fence, const std::optional<config::Address>& node, const NodesView& nodes);

/* A request for the master: now, or held behind the fence and behind
 * anything already held, so a client's requests stay in order. */
Placement placeOnMaster(const NodesView& nodes);

/* A read per routing.read_policy: a usable replica if the policy allows
 * and `replica_ok` (the command is a read and the client did not just
 * write); else the master, or an error under read_policy "replica". Picks
 * the replica (pickReplica), which moves the balancing credits. */
Placement placeRead(bool replica_ok, const NodesView& nodes);

/* A SCAN-family cursor 0: a read, except that under read_policy "replica"
 * an iteration never starts on the master, even for a client that just
 * wrote. */
Placement placeScanStart(bool replica_ok, const NodesView& nodes);

/* A SCAN-family cursor other than 0: only the node that issued it knows
 * it (`issuer`, recorded from the cursor-0 placement). */
Placement placeScan(const std::optional<config::Address>& issuer, const NodesView& nodes);

/* The node a cursor-0 SCAN placed by placeScanStart iterates on. */
std::optional<config::Address> scanIssuer(const Placement& placement, const NodesView& nodes);

/* Read-your-writes: a client whose last write was less than
 * routing.sticky_after_write ago reads from the master, which has it. */
bool readsOwnWrite(std::optional<std::uint64_t> last_write_ms, std::uint64_t now_ms,
                   std::chrono::milliseconds sticky_after_write);

}  // namespace rhp::router
