#include "router/placement.h"

#include "router/errors.h"

namespace rhp::router {

using ReadPolicy = config::Config::Routing::ReadPolicy;

bool masterOpen(const NodesView& nodes) {
  return nodes.master_ready && nodes.lease_valid;
}

bool mayWriteTo(const config::Address& node, const NodesView& nodes) {
  return masterOpen(nodes) && nodes.master != nullptr && *nodes.master == node;
}

Fence dedicatedFence(bool pubsub, bool in_transaction, bool read) {
  if (pubsub) return Fence::None;
  return in_transaction || !read ? Fence::Write : Fence::Lease;
}

bool fencePasses(Fence fence, const std::optional<config::Address>& node, const NodesView& nodes) {
  switch (fence) {
    case Fence::None:
      return true;
    case Fence::Lease:
      return nodes.lease_valid;
    case Fence::Write:
      return node && mayWriteTo(*node, nodes);
  }
  return false;
}

Placement placeOnMaster(const NodesView& nodes) {
  return {nodes.hold_empty && masterOpen(nodes) ? Node::Master : Node::Hold, 0, {}};
}

Placement placeRead(bool replica_ok, const NodesView& nodes) {
  if (nodes.read_policy != ReadPolicy::Master && replica_ok) {
    if (const auto picked = pickReplica(nodes.replicas, nodes.balance)) {
      return {Node::Replica, *picked, {}};
    }
    if (nodes.read_policy == ReadPolicy::Replica) {
      return {Node::Fail, 0, errors::kNoEligibleReplica};
    }
  }
  return placeOnMaster(nodes);
}

Placement placeScanStart(bool replica_ok, const NodesView& nodes) {
  if (nodes.read_policy == ReadPolicy::Replica && !replica_ok) {
    return {Node::Fail, 0, errors::kNoEligibleReplica};
  }
  return placeRead(replica_ok, nodes);
}

Placement placeScan(const std::optional<config::Address>& issuer, const NodesView& nodes) {
  if (issuer && nodes.master != nullptr && *issuer == *nodes.master) return placeOnMaster(nodes);
  for (std::size_t i = 0; issuer && i < nodes.replicas.size(); ++i) {
    const ReplicaChoice& replica = nodes.replicas[i];
    if (replica.address != nullptr && *replica.address == *issuer) {
      if (!replica.usable) break;
      return {Node::Replica, i, {}};
    }
  }
  return {Node::Fail, 0, errors::kScanNodeGone};
}

std::optional<config::Address> scanIssuer(const Placement& placement, const NodesView& nodes) {
  switch (placement.node) {
    case Node::Replica:
      return *nodes.replicas[placement.replica].address;
    case Node::Master:
    case Node::Hold:
      if (nodes.master != nullptr) return *nodes.master;
      return std::nullopt;
    case Node::Fail:
      break;
  }
  return std::nullopt;
}

bool readsOwnWrite(std::optional<std::uint64_t> last_write_ms, std::uint64_t now_ms,
                   std::chrono::milliseconds sticky_after_write) {
  return last_write_ms &&
         now_ms - *last_write_ms < static_cast<std::uint64_t>(sticky_after_write.count());
}

}  // namespace rhp::router
