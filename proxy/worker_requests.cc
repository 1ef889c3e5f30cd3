// Where Worker (declared in worker.h) sends requests: it carries out the
// router's placements (router/placement.h) on its node pools, holds what
// the master cannot take yet and releases it in order, and sends again what
// a backend's answer says went to the wrong node.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "proxy/proxy_log.h"
#include "proxy/worker.h"
#include "router/errors.h"

namespace rhp::proxy {

NodePool* Worker::replicaPool(const config::Address& address) {
  for (auto& replica : replicas_) {
    if (replica.pool->address() == address) return replica.pool.get();
  }
  return nullptr;
}

const health::ReplicationProgress& Worker::replicationProgress() {
  const std::uint64_t now = uv_now(&loop_);
  if (!progress_ || progress_loaded_ms_ != now) {
    progress_ = channel_.progress();
    progress_loaded_ms_ = now;
  }
  return *progress_;
}

bool Worker::usesFloor(const router::ReadFloor* floor) const {
  // Under read_policy "replica" reads never go to the master, so nothing
  // can hold them to a floor: they are eventually consistent (README).
  return floor != nullptr &&
         config_.routing.read_policy == config::Config::Routing::ReadPolicy::PreferReplica;
}

bool Worker::waitsBehindOwnHeld(const Request& request, const router::ReadFloor* floor) const {
  // On a replica it would run before its client's held request, and a
  // held read runs later, on newer data.
  return usesFloor(floor) && !hold_.empty() && hold_.holds(request.reply_to.sink);
}

bool Worker::floorAllows(router::ReadFloor* floor, const NodePool& replica) {
  return !usesFloor(floor) || !floor->needsProgress() ||
         floor->allows(replica.address(), replicationProgress());
}

router::NodesView Worker::nodesView(bool with_replicas, router::ReadFloor* floor) {
  router::NodesView view;
  view.read_policy = config_.routing.read_policy;
  view.balance = config_.routing.replica_balance;
  view.master = topology_->master ? &*topology_->master : nullptr;
  // A busy master is still the master, but what goes to it now would run
  // after the script, whatever Sentinel does meanwhile: it waits.
  view.master_ready = canSendToMaster() && !topology_->master_busy;
  view.lease_valid = writeLeaseValid();
  view.hold_empty = hold_.empty();
  if (with_replicas) {
    replica_choices_.clear();
    for (auto& replica : replicas_) {
      const bool usable = replica.pool->ready() && floorAllows(floor, *replica.pool);
      replica_choices_.push_back({usable, replica.weight, replica.pool->outstanding(),
                                  &replica.credit, &replica.pool->address()});
    }
    view.replicas = replica_choices_;
  }
  return view;
}

void Worker::sendTo(const router::Placement& placement, RequestPtr request) {
  switch (placement.node) {
    case router::Node::Master:
      master_->send(std::move(request));
      return;
    case router::Node::Hold:
      holdOrFail(std::move(request));
      return;
    case router::Node::Replica:
      replicas_[placement.replica].pool->send(std::move(request));
      return;
    case router::Node::Fail:
      deliverReply(*request, placement.error);
      return;
  }
}

void Worker::dispatch(router::Via via, RequestPtr request,
                      std::optional<config::Address>& scan_node) {
  switch (via) {
    case router::Via::Read:
      dispatchRead(std::move(request));
      return;
    case router::Via::Scan:
    case router::Via::ScanStart:
      dispatchScan(std::move(request), via == router::Via::ScanStart, scan_node);
      return;
    case router::Via::Broadcast:
      dispatchBroadcast(std::move(request));
      return;
    case router::Via::Urgent:
      sendUrgent(std::move(request));
      return;
    case router::Via::Master:
    case router::Via::Dedicated:  // not the worker's: the session's own connection
    case router::Via::PubSub:
      dispatchToMaster(std::move(request));
      return;
  }
}

void Worker::dispatchRead(RequestPtr request, bool earlier) {
  const bool replica_ok = request->replica_ok;
  // The replicas are looked at only for a read that may go to one.
  const bool may_use_replica =
      replica_ok && config_.routing.read_policy != config::Config::Routing::ReadPolicy::Master;
  router::ReadFloor* floor = request->reply_to.readFloor();
  if (!earlier && waitsBehindOwnHeld(*request, floor)) {
    holdOrFail(std::move(request));
    return;
  }
  const router::Placement placement =
      router::placeRead(replica_ok, nodesView(may_use_replica, floor));
  request->floor_checked = placement.node == router::Node::Replica && usesFloor(floor);
  if (earlier && placement.node == router::Node::Hold) {
    // Ahead of what its client sent after it, and accepted already.
    std::vector<RequestPtr> again;
    again.push_back(std::move(request));
    hold_.holdAtFront(std::move(again), uv_now(&loop_));
    noteHeld();
    return;
  }
  sendTo(placement, std::move(request));
}

void Worker::dispatchScan(RequestPtr request, bool starts_iteration,
                          std::optional<config::Address>& node) {
  request->node_pinned = true;
  if (!starts_iteration) {
    // The cursor's node, whatever the floor says: its reply counts as one
    // from the master (ReplySink::sent).
    request->floor_checked = false;
    sendTo(router::placeScan(node, nodesView(true)), std::move(request));
    return;
  }
  router::ReadFloor* floor = request->reply_to.readFloor();
  const router::NodesView view = nodesView(true, floor);
  const router::Placement placement = router::placeScanStart(request->replica_ok, view);
  request->floor_checked = placement.node == router::Node::Replica && usesFloor(floor);
  if (placement.node != router::Node::Fail) node = router::scanIssuer(placement, view);
  sendTo(placement, std::move(request));
}

/* To the node Sentinel and ROLE last confirmed, even while writes are held:
 * a busy master is still the master, and the KILL is what frees it. */
void Worker::sendUrgent(RequestPtr request) {
  std::optional<config::Address> node = topology_->master;
  if (!node && master_) node = master_->address();
  if (!node) {
    deliverReply(*request, holdFailureError());
    return;
  }
  // Redis refuses SELECT while busy (it is not allow-busy): the KILLs do
  // not depend on the database, so they go in db 0.
  request->db = 0;
  urgent_.send(std::move(request), *node);
}

void Worker::dispatchBroadcast(RequestPtr request) {
  for (auto& replica : replicas_) {
    if (!replica.pool->ready()) continue;
    auto copy = requests_.acquire();
    copy->payload = request->payload;
    copy->db = request->db;
    copy->resp = request->resp;
    copy->login = request->login;  // passthrough: loaded as the user, as on the master
    copy->retry_safe = true;
    replica.pool->send(std::move(copy));
  }
  dispatchToMaster(std::move(request));
}

std::optional<config::Address> Worker::masterForDedicated(ClientSession& session) {
  dedicated_sessions_.insert(&session);
  if (!canSendToMaster()) return std::nullopt;
  return master_->address();
}

void Worker::forgetDedicated(ClientSession& session) {
  dedicated_sessions_.erase(&session);
}

/* Tells the sessions with dedicated connections where the master is now,
 * when that changed: the current master once it takes requests, nullopt
 * while none does. */
void Worker::notifyDedicated() {
  std::optional<config::Address> current;
  if (canSendToMaster()) current = master_->address();
  if (current == dedicated_master_) return;
  dedicated_master_ = current;
  for (ClientSession* session :
       std::vector(dedicated_sessions_.begin(), dedicated_sessions_.end())) {
    if (dedicated_sessions_.contains(session)) session->onMasterUpdate(current);
  }
}

void Worker::retireMaster() {
  if (!master_) return;
  retirePool(std::move(master_));
}

/* Requests that waited for a passthrough user's connection never left:
 * they go back to the hold queue, in front (the next release places them
 * on the current nodes), not to the node the pool was for. */
void Worker::retirePool(std::unique_ptr<NodePool> pool) {
  pool->retire();
  if (std::vector<RequestPtr> waiting = pool->takeUserWaiting(); !waiting.empty()) {
    hold_.holdAtFront(std::move(waiting), uv_now(&loop_));
    noteHeld();
  }
  retired_pools_.push_back(std::move(pool));
}

bool Worker::canSendToMaster() const {
  return master_ && master_->ready() && !master_suspect_;
}

bool Worker::writeLeaseValid() const {
  // Checked against the loop's time, not the clock: a clock read per
  // request was 2.7 % of the CPU of a pipelined SET/GET (perf, -P 16).
  // libuv sets that time from the same CLOCK_MONOTONIC after every
  // epoll_wait, in whole milliseconds, from a source at most 1 ms coarse;
  // adding 2 ms makes it no earlier than the clock at the start of this turn.
  // A write passed now leaves at the end-of-turn flush, as one checked with
  // a fresh clock read always did, so the lease ends no later than before.
  // Its margin, half of down-after-milliseconds, is hundreds of ms.
  constexpr std::uint64_t kLoopTimeLagMs = 2;
  const std::chrono::milliseconds loop_time(uv_now(&loop_) + kLoopTimeLagMs);
  return channel_.writeLeaseValid(std::chrono::steady_clock::time_point(loop_time));
}

bool Worker::canWriteToMaster() {
  return router::masterOpen(nodesView(false));
}

void Worker::dispatchToMaster(RequestPtr request) {
  sendTo(router::placeOnMaster(nodesView(false)), std::move(request));
}

/* The master checks a login, or while it cannot take requests (a
 * failover) a ready replica: users must exist with the same passwords on
 * every node, so any node's answer is the nodes' answer. */
void Worker::checkLogin(std::shared_ptr<BackendLogin> login, RequestPtr request) {
  NodePool* node = canSendToMaster() ? master_.get() : nullptr;
  for (auto& replica : replicas_) {
    if (node == nullptr && replica.pool->ready()) node = replica.pool.get();
  }
  if (node == nullptr) {
    deliverReply(*request, errors::kLoginUnchecked);
    return;
  }
  node->checkLogin(std::move(login), std::move(request));
}

void Worker::holdOrFail(RequestPtr request) {
  if (hold_.hold(request, uv_now(&loop_))) {
    noteHeld();
    return;
  }
  deliverReply(*request, hold_.empty() && config_.failover.hold.count() == 0 ? holdFailureError()
                                                                             : errors::kHoldFull);
}

std::string_view Worker::holdFailureError() const {
  if (topology_->status == health::MasterStatus::Confirmed && !writeLeaseValid()) {
    return errors::kNoSentinelMajority;
  }
  switch (topology_->status) {
    case health::MasterStatus::NoSentinel:
      return errors::kNoSentinel;
    case health::MasterStatus::UnknownName:
      return errors::kUnknownMaster;
    case health::MasterStatus::NoQuorum:
      return errors::kNoSentinelMajority;
    default:
      return errors::kHoldTimeout;
  }
}

void Worker::releaseHeld() {
  if (hold_.empty()) return;
  while (!hold_.empty() && canWriteToMaster()) master_->send(hold_.pop());
  noteHeld();
}

void Worker::onPoolReady(NodePool& pool) {
  if (pool.role() == NodePool::Role::Replica) {
    moveHeldReadsToReplicas();
    return;
  }
  if (&pool != master_.get()) return;
  releaseHeld();
  notifyDedicated();
}

/* Reads fall back to the master while no replica is ready, and are held
 * with the writes while the master is unusable (a failover, a lapsed write
 * lease). Once a replica is ready they go there instead of waiting for the
 * master: reads then pause only while no replica can serve them. A read
 * stays behind any earlier held request of its own client, so it never
 * overtakes that client's write. */
void Worker::moveHeldReadsToReplicas() {
  if (hold_.empty() || config_.routing.read_policy == config::Config::Routing::ReadPolicy::Master) {
    return;
  }
  const bool any_ready =
      std::any_of(replicas_.begin(), replicas_.end(),
                  [](const ReplicaPool& replica) { return replica.pool->ready(); });
  if (!any_ready) return;
  // Only reads a replica will take: one sent back to the hold would go
  // behind its client's later requests.
  auto replica_takes = [&](const Request& request) {
    router::ReadFloor* floor = request.reply_to.readFloor();
    return std::any_of(replicas_.begin(), replicas_.end(), [&](const ReplicaPool& replica) {
      return replica.pool->ready() && replica.weight > 0 && floorAllows(floor, *replica.pool);
    });
  };
  std::unordered_set<const ReplySink*> behind_own_request;
  auto moved = hold_.takeIf([&](const Request& request) {
    if (!request.reply_to.waiting()) return false;
    if (request.replica_ok && !request.node_pinned &&
        !behind_own_request.contains(request.reply_to.sink) && replica_takes(request)) {
      return true;
    }
    behind_own_request.insert(request.reply_to.sink);
    return false;
  });
  if (moved.empty()) return;
  proxyLog()->debug("held reads sent to a replica worker={} count={}", index_, moved.size());
  for (auto& request : moved) dispatchRead(std::move(request), true);
  noteHeld();
}

/* A replica connection broke: its reads go to another node (reads are safe
 * to repeat); the proxy's own copies are dropped. */
void Worker::redispatchFromReplica(NodePool& pool, RequestPtr request) {
  if (!request->reply_to.waiting()) return;
  if (request->node_pinned) {
    if (pool.ready() && !pool.retired()) {
      request->floor_checked = false;  // the cursor's node, not the floor's choice
      pool.send(std::move(request));
    } else {
      deliverReply(*request, errors::kScanNodeGone);
    }
    return;
  }
  dispatchRead(std::move(request), true);
}

void Worker::onPoolConnectionLost(NodePool& pool, std::vector<RequestPtr> unsent) {
  if (pool.role() == NodePool::Role::Replica) {
    for (auto& request : unsent) redispatchFromReplica(pool, std::move(request));
    return;
  }
  if (!unsent.empty()) hold_.holdAtFront(std::move(unsent), uv_now(&loop_));
  if (&pool == master_.get() && !pool.ready()) channel_.requestRediscovery();
  releaseHeld();
}

void Worker::onRejected(NodePool& pool, RequestPtr request, std::string_view frame) {
  if (pool.role() == NodePool::Role::Replica) {
    // A replica refused a read it could not serve (a script it does not
    // have, a command misclassified as read-only): the master can.
    request->replica_ok = false;
    dispatchToMaster(std::move(request));
    return;
  }
  if (!frame.starts_with("-READONLY")) {
    deliverReply(*request, frame);
    return;
  }
  onMasterReadOnly(std::move(request), frame);
}

void Worker::onMasterReadOnly(RequestPtr request, std::string_view frame) {
  /* -READONLY from the node we believe is master: it may have been demoted,
   * and then the write was not executed. Hold it (ahead of later
   * requests), stop using this master until the control thread has looked
   * again (onTopologyChanged decides). */
  readonly_seen_at_ = std::chrono::steady_clock::now();
  request->readonly_reply.assign(frame);
  std::vector<RequestPtr> back;
  back.push_back(std::move(request));
  hold_.holdAtFront(std::move(back), uv_now(&loop_));
  if (!master_suspect_) {
    master_suspect_ = true;
    proxyLog()->info("master answered READONLY, holding writes until rediscovery worker={}",
                     index_);
    channel_.requestRediscovery();
  }
}

}  // namespace rhp::proxy
