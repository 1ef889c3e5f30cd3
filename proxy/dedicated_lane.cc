#include "proxy/dedicated_lane.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "commands/resp_array.h"
#include "proxy/proxy_log.h"
#include "proxy/pubsub_tracker.h"
#include "proxy/resume_timeout.h"
#include "router/errors.h"
#include "router/placement.h"

namespace rhp::proxy {

DedicatedLane::DedicatedLane(SessionHost& host, ClientSession& session, Owner& owner)
    : host_(host), session_(session), owner_(owner) {}

DedicatedLane::~DedicatedLane() {
  shutdown();
}

void DedicatedLane::send(RequestPtr request, bool raw) {
  // The same fence as pooled writes: held from the first failover event
  // until the new master is confirmed, and while the write lease lapsed.
  const router::Fence fence = router::dedicatedFence(raw, request->txn != 0, request->replica_ok);
  if (connection_ && connection_->ready() && waiting_.empty() &&
      host_.fencePasses(fence, master_)) {
    if (raw) {
      connection_->useProtocol(request->resp);
      connection_->setPassThrough(true);
      connection_->sendRaw(request->payload);
    } else {
      if (request->txn != 0) {
        last_sent_txn_ = request->txn;
        if (replay_.answersNil(*request)) {
          // The WATCH was lost with the old connection: what Redis answers
          // when a watched key was touched, and the block is discarded.
          deliverReply(*request, commands::nullArray(request->resp));
          request = TransactionReplay::discardFor(*request);
        }
        replay_.noteSent(*request);
      }
      resumeTimeout(*request, host_.now());  // a blocking command waits what is left
      if (request->family == commands::Family::ClientTracking) {
        tracking_on_connection_ = request->enables_tracking;
      }
      if (request->resets_connection) tracking_on_connection_ = false;  // RESET ends it
      connection_->send(std::move(request));
    }
    return;
  }
  if (waiting_.empty()) waiting_since_ms_ = host_.now();
  waiting_.push_back({std::move(request), raw});
  connect();
}

void DedicatedLane::connect() {
  if (connection_ || shut_down_) return;
  registered_ = true;
  auto master = host_.masterForDedicated(session_);
  if (!master) return;  // onMasterUpdate() calls again
  master_ = master;
  connection_ = std::make_unique<BackendConnection>(
      host_.loop(), *master, host_.config().backend, host_.backendTls(),
      static_cast<BackendEvents&>(*this), host_.backendFlushList(), host_.clock(),
      commands::Resp::V2, owner_.login());
  connection_->connect();
}

/* The connection object may be up the call stack (its callbacks end here):
 * the worker frees it at the end of the loop turn. */
void DedicatedLane::retire() {
  if (connection_) host_.retireConnection(std::move(connection_));
  master_.reset();
  tracking_on_connection_ = false;
}

/* Redis tracks per connection: what the client read on the lost one (maybe
 * on a master that is gone) will never be invalidated. The client hears
 * at once to drop everything, as after a FLUSHALL, ahead of any reply
 * still owed (ReplyQueue::push), and the next connection enables tracking
 * again before anything else. */
void DedicatedLane::loseTracking() {
  if (!tracking_on_connection_) return;
  tracking_lost_ = true;
  owner_.onTrackingLost();
}

void DedicatedLane::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  waiting_.clear();
  retire();
  if (registered_) host_.forgetDedicated(session_);
}

void DedicatedLane::endPassThrough() {
  if (connection_) connection_->setPassThrough(false);
}

void DedicatedLane::resubscribeOnConnect() {
  resubscribe_on_connect_ = true;
  waiting_since_ms_ = host_.now();
}

void DedicatedLane::failWaiting(std::string_view error) {
  auto waiting = std::exchange(waiting_, {});
  for (auto& entry : waiting) deliverReply(*entry.request, error);
}

void DedicatedLane::onConnectionReady(BackendConnection& connection) {
  if (&connection != connection_.get()) return;
  // In the client's protocol from the start: a RESP3 subscriber's
  // resubscription is confirmed with pushes.
  connection.useProtocol(owner_.protocol());
  if (const std::string_view name = owner_.clientName(); !name.empty()) {
    auto setname = newRequest();
    setname->payload = commands::respCommand({"CLIENT", "SETNAME", name});
    setname->resp = owner_.protocol();
    connection.send(std::move(setname));
  }
  if (std::exchange(tracking_lost_, false) && !owner_.trackingCommand().empty()) {
    auto tracking = newRequest();
    tracking->payload = owner_.trackingCommand();
    tracking->resp = owner_.protocol();
    connection.send(std::move(tracking));
    tracking_on_connection_ = true;
  }
  if (resubscribe_on_connect_) {
    resubscribe_on_connect_ = false;
    // Back after a failover or a broken link: the client is still
    // subscribed as far as it knows.
    std::size_t frames = 0;
    const std::string commands = owner_.resubscribeCommands(frames);
    // RESP2 confirmations are plain replies, told apart by pass-through
    // mode; RESP3 ones are pushes, which pass through anyway, but an error
    // (-NOPERM) is not.
    connection.setPassThrough(true);
    connection.sendRaw(commands);
    resubscribe_frames_ = frames;
  }
  sendWaiting();
}

/* In order; whatever still cannot go (the write lease lapsed) waits again. */
void DedicatedLane::sendWaiting() {
  // What waits again keeps its place in the hold: a reconnect does not
  // restart the clock.
  const std::uint64_t since = waiting_since_ms_;
  auto waiting = std::exchange(waiting_, {});
  for (auto& entry : waiting) send(std::move(entry.request), entry.raw);
  if (!waiting_.empty()) waiting_since_ms_ = since;
}

void DedicatedLane::onConnectionDown(BackendConnection& connection,
                                     std::vector<RequestPtr> unsent) {
  if (&connection != connection_.get()) return;
  if (!connection.loginRefusal().empty()) {
    // The node refused the client's user (its password changed, or it was
    // removed): nothing of these ran, and trying again gets the same.
    for (auto& request : unsent) deliverReply(*request, connection.loginRefusal());
    for (auto& entry : waiting_) deliverReply(*entry.request, connection.loginRefusal());
    unsent.clear();
    waiting_.clear();
  }
  loseTracking();
  retire();
  // A transaction that ran nothing on the old master is restored on the
  // next connection (TransactionReplay); only one with requests in flight
  // is lost with it.
  const std::size_t unsent_of_txn =
      static_cast<std::size_t>(std::count_if(unsent.begin(), unsent.end(), [&](const auto& r) {
        return r->txn != 0 && r->txn == replay_.transaction();
      }));
  auto replay = replay_.onLost(connection.lostInFlight() + unsent_of_txn);
  const std::uint64_t lost_txn = replay ? 0 : last_sent_txn_;
  if (!owner_.onLaneLost(lost_txn)) return;
  // In order: the transaction's restoration, what was on the wire (older),
  // then what waited behind it.
  const std::uint64_t since = waiting_.empty() ? host_.now() : waiting_since_ms_;
  std::vector<Waiting> kept;
  if (replay) {
    for (auto& request : *replay) kept.push_back({std::move(request), false});
  }
  auto keepOrAbort = [&](RequestPtr request, bool written, bool raw) {
    const std::uint64_t txn = request->txn;
    if (txn != 0 && (written || txn == lost_txn)) {
      // Part of this transaction reached the old master (a WATCH, a MULTI,
      // queued commands): the rest cannot continue on another one. Nothing
      // of it ran, so the client gets a certain answer.
      deliverReply(*request, errors::kTransactionAborted);
      return;
    }
    // A blocking command that got no answer popped nothing, and a
    // transaction that waited whole behind the write fence sent nothing:
    // both go to the next connection (the same or the new master).
    kept.push_back({std::move(request), raw});
  };
  for (auto& request : unsent) keepOrAbort(std::move(request), true, false);
  for (auto& entry : std::exchange(waiting_, {})) {
    keepOrAbort(std::move(entry.request), false, entry.raw);
  }
  // An answer above may have let the client send more: it waits behind,
  // on the kept requests' clock if there are any, else on its own (send()
  // started it).
  const bool kept_any = !kept.empty();
  for (auto& entry : waiting_) kept.push_back(std::move(entry));
  waiting_ = std::move(kept);
  if (kept_any) waiting_since_ms_ = since;
}

void DedicatedLane::onRejected(BackendConnection&, RequestPtr request, std::string_view frame) {
  // On the client's own connection Redis's answer is the client's answer.
  deliverReply(*request, frame);
}

void DedicatedLane::onPassThrough(BackendConnection& connection, std::string_view frame) {
  if (&connection != connection_.get()) return;
  if (resubscribe_frames_ > 0 && (frame.starts_with('-') || frame.starts_with('!'))) {
    // The node refused to subscribe again (-NOPERM after an ACL change):
    // the client would wait for messages that never come.
    proxyLog()->warn("resubscribing a client was refused: {}", frame.substr(0, frame.find('\r')));
    resubscribe_frames_ = 0;
    retire();
    owner_.onLaneGaveUp(true);
    return;
  }
  if (resubscribe_frames_ > 0 && PubSubTracker::isConfirmation(frame)) {
    --resubscribe_frames_;
    return;
  }
  owner_.onLaneFrame(frame);
}

void DedicatedLane::onMasterUpdate(const std::optional<config::Address>& master) {
  if (!master || shut_down_) return;
  if (connection_ && master_ && !(*master_ == *master)) {
    proxyLog()->debug("dedicated connection follows the master from {} to {}", master_->toString(),
                      master->toString());
    connection_->fail("the master changed", errors::kFailedOverInFlight);
  }
  if (!connection_ && needsConnection()) connect();
}

void DedicatedLane::onTick(std::uint64_t now_ms) {
  if (shut_down_) return;
  if (holdsRequests() && now_ms - waiting_since_ms_ >=
                             static_cast<std::uint64_t>(host_.config().failover.hold.count())) {
    const bool subscriber = resubscribe_on_connect_;
    loseTracking();
    retire();
    failWaiting(host_.holdFailureError());
    owner_.onLaneGaveUp(subscriber);
    if (shut_down_) return;
  }
  // Reconnects wait for the tick: a refused master is retried every
  // 50 ms, not in a tight loop.
  if (!connection_ && needsConnection()) connect();
  // Requests that waited behind the write fence on a connection that is up
  // (the lease came back, or a failover was aborted and the same master
  // confirmed).
  if (connection_ && connection_->ready() && !waiting_.empty()) sendWaiting();
}

}  // namespace rhp::proxy
