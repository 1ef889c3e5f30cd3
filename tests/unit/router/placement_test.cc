#include "router/placement.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "router/errors.h"

namespace rhp::router {
namespace {

using ReadPolicy = config::Config::Routing::ReadPolicy;
using namespace std::chrono_literals;

const config::Address kMaster{"10.0.0.1", 6379};
const config::Address kReplicaA{"10.0.0.2", 6379};
const config::Address kReplicaB{"10.0.0.3", 6379};
const config::Address kOldMaster{"10.0.0.9", 6379};

/* A worker's view in one of the topology states, with its replicas. */
struct World {
  bool master_ready = true;
  bool lease_valid = true;
  bool hold_empty = true;
  bool has_master = true;
  ReadPolicy policy = ReadPolicy::PreferReplica;
  std::vector<bool> replicas_ready = {true, true};
  std::int64_t credits[2] = {0, 0};
  std::vector<ReplicaChoice> choices;

  NodesView view() {
    choices.clear();
    const config::Address* addresses[] = {&kReplicaA, &kReplicaB};
    for (std::size_t i = 0; i < replicas_ready.size(); ++i) {
      choices.push_back({replicas_ready[i], 1, 0, &credits[i], addresses[i]});
    }
    NodesView nodes;
    nodes.read_policy = policy;
    nodes.master = has_master ? &kMaster : nullptr;
    nodes.master_ready = master_ready;
    nodes.lease_valid = lease_valid;
    nodes.hold_empty = hold_empty;
    nodes.replicas = choices;
    return nodes;
  }
};

World confirmed() {
  return {};
}
World failingOver() {
  World world;
  world.master_ready = false;  // the first failover event retires the master's pool
  return world;
}
World leaseLapsed() {
  World world;
  world.lease_valid = false;
  return world;
}
World noReplica() {
  World world;
  world.replicas_ready.clear();
  return world;
}
World replicasDown() {
  World world;
  world.replicas_ready = {false, false};
  return world;
}
World noReplicaFailingOver() {
  World world = failingOver();
  world.replicas_ready.clear();
  return world;
}
World somethingHeld() {
  World world;
  world.hold_empty = false;
  return world;
}

struct PlacementRow {
  const char* what;
  World world;
  bool replica_ok;
  Node expected;
  std::string_view error = {};
};

TEST(Place, WritesPassTheFenceOnlyToAConfirmedMasterWithTheLease) {
  const std::vector<PlacementRow> rows = {
      {"confirmed", confirmed(), false, Node::Master},
      {"failing over", failingOver(), false, Node::Hold},
      {"lease lapsed", leaseLapsed(), false, Node::Hold},
      {"behind held requests, even with the master back", somethingHeld(), false, Node::Hold},
      {"no replica changes nothing for a write", noReplica(), false, Node::Master},
  };
  for (PlacementRow row : rows) {
    SCOPED_TRACE(row.what);
    EXPECT_EQ(placeOnMaster(row.world.view()).node, row.expected);
  }
}

TEST(Place, ReadsFollowTheReadPolicyInEveryTopologyState) {
  auto with = [](World world, ReadPolicy policy) {
    world.policy = policy;
    return world;
  };
  const std::vector<PlacementRow> rows = {
      {"prefer-replica: a replica", confirmed(), true, Node::Replica},
      {"prefer-replica, failing over: a replica still", failingOver(), true, Node::Replica},
      {"prefer-replica, lease lapsed: a replica still", leaseLapsed(), true, Node::Replica},
      {"prefer-replica, no replica: the master", noReplica(), true, Node::Master},
      {"prefer-replica, replicas down: the master", replicasDown(), true, Node::Master},
      {"prefer-replica, no replica, failing over: held", noReplicaFailingOver(), true, Node::Hold},
      {"a read that needs the master (own write, not a read)", confirmed(), false, Node::Master},
      {"... held while failing over", failingOver(), false, Node::Hold},
      {"master policy", with(confirmed(), ReadPolicy::Master), true, Node::Master},
      {"master policy, failing over: held", with(failingOver(), ReadPolicy::Master), true,
       Node::Hold},
      {"replica policy", with(confirmed(), ReadPolicy::Replica), true, Node::Replica},
      {"replica policy, replicas down: an error", with(replicasDown(), ReadPolicy::Replica), true,
       Node::Fail, errors::kNoEligibleReplica},
      {"replica policy, a read that needs the master", with(replicasDown(), ReadPolicy::Replica),
       false, Node::Master},
  };
  for (PlacementRow row : rows) {
    SCOPED_TRACE(row.what);
    const Placement placement = placeRead(row.replica_ok, row.world.view());
    EXPECT_EQ(placement.node, row.expected);
    EXPECT_EQ(placement.error, row.error);
  }
}

TEST(Place, ReadsAreSharedAmongTheReplicas) {
  World world = confirmed();
  const NodesView nodes = world.view();
  EXPECT_EQ(placeRead(true, nodes).replica, 0u);
  EXPECT_EQ(placeRead(true, nodes).replica, 1u);
  EXPECT_EQ(placeRead(true, nodes).replica, 0u);
}

TEST(Place, AScanCursorStaysOnTheNodeThatIssuedIt) {
  World world = confirmed();
  const NodesView nodes = world.view();
  const Placement start = placeRead(true, nodes);
  ASSERT_EQ(start.node, Node::Replica);
  const auto issuer = scanIssuer(start, nodes);
  ASSERT_TRUE(issuer);
  for (int i = 0; i < 3; ++i) {
    const Placement next = placeScan(issuer, nodes);
    ASSERT_EQ(next.node, Node::Replica);
    EXPECT_EQ(*nodes.replicas[next.replica].address, *issuer);
  }

  World on_master = confirmed();
  on_master.policy = ReadPolicy::Master;
  const NodesView master_nodes = on_master.view();
  const Placement master_start = placeRead(true, master_nodes);
  EXPECT_EQ(scanIssuer(master_start, master_nodes), kMaster);
  EXPECT_EQ(placeScan(kMaster, master_nodes).node, Node::Master);
  EXPECT_EQ(placeScan(kMaster, failingOver().view()).node, Node::Hold);
  // A cursor started while held belongs to the master it was held for.
  EXPECT_EQ(scanIssuer({Node::Hold, 0, {}}, failingOver().view()), kMaster);
  EXPECT_EQ(scanIssuer({Node::Fail, 0, errors::kNoEligibleReplica}, nodes), std::nullopt);
  // Under read_policy "replica" an iteration never starts on the master,
  // even for a client that just wrote (a plain read would go there).
  World replicas_only = confirmed();
  replicas_only.policy = ReadPolicy::Replica;
  EXPECT_EQ(placeScanStart(false, replicas_only.view()).error, errors::kNoEligibleReplica);
  EXPECT_EQ(placeRead(false, replicas_only.view()).node, Node::Master);
  EXPECT_EQ(placeScanStart(true, replicas_only.view()).node, Node::Replica);
  World prefer = confirmed();
  EXPECT_EQ(placeScanStart(false, prefer.view()).node, Node::Master);
}

TEST(Place, AScanCursorWhoseNodeLeftIsAnError) {
  const std::vector<std::pair<const char*, std::optional<config::Address>>> gone = {
      {"an old master", kOldMaster}, {"no cursor was started", std::nullopt}};
  for (const auto& [what, issuer] : gone) {
    SCOPED_TRACE(what);
    World world = confirmed();
    EXPECT_EQ(placeScan(issuer, world.view()).error, errors::kScanNodeGone);
  }
  World down = replicasDown();
  EXPECT_EQ(placeScan(kReplicaB, down.view()).error, errors::kScanNodeGone);
  World none = noReplica();
  EXPECT_EQ(placeScan(kReplicaA, none.view()).error, errors::kScanNodeGone);
}

/* Issue 11: a transaction's, a blocking command's and a script's own
 * connection pass the fence pooled writes pass. */
TEST(Place, TheClientsOwnConnectionPassesTheSameFence) {
  EXPECT_EQ(dedicatedFence(true, false, false), Fence::None);    // pub/sub
  EXPECT_EQ(dedicatedFence(false, true, true), Fence::Write);    // GET inside MULTI
  EXPECT_EQ(dedicatedFence(false, false, false), Fence::Write);  // BLMOVE
  EXPECT_EQ(dedicatedFence(false, false, true), Fence::Lease);   // XREAD BLOCK

  struct FenceRow {
    const char* what;
    World world;
    std::optional<config::Address> node;
    bool write, lease, none;
  };
  const std::vector<FenceRow> rows = {
      {"confirmed master", confirmed(), kMaster, true, true, true},
      {"failing over", failingOver(), kMaster, false, true, true},
      {"lease lapsed", leaseLapsed(), kMaster, false, false, true},
      {"a connection to the old master", confirmed(), kOldMaster, false, true, true},
      {"no connection yet", confirmed(), std::nullopt, false, true, true},
  };
  for (FenceRow row : rows) {
    SCOPED_TRACE(row.what);
    const NodesView nodes = row.world.view();
    EXPECT_EQ(fencePasses(Fence::Write, row.node, nodes), row.write);
    EXPECT_EQ(fencePasses(Fence::Lease, row.node, nodes), row.lease);
    EXPECT_EQ(fencePasses(Fence::None, row.node, nodes), row.none);
  }
}

TEST(Place, AClientReadsItsOwnWriteWithinTheStickyWindow) {
  EXPECT_FALSE(readsOwnWrite(std::nullopt, 1000, 500ms));  // never wrote
  EXPECT_TRUE(readsOwnWrite(900, 1000, 500ms));
  EXPECT_FALSE(readsOwnWrite(400, 1000, 500ms));
  EXPECT_FALSE(readsOwnWrite(1000, 1000, 0ms));  // the default: off
}

}  // namespace
}  // namespace rhp::router
