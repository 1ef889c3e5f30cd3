// The pub/sub half of ClientSession (declared in client_session.h): how a
// client's pub/sub episodes travel on its dedicated connection and come
// back as stream slots of its reply queue, what a lost connection does to
// them, and Redis's output limit for subscribers.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <utility>

#include "commands/resp_array.h"
#include "proxy/client_session.h"
#include "proxy/proxy_log.h"

namespace rhp::proxy {

namespace {

std::string lowerName(std::string_view name) {
  std::string out(name);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

/* A pub/sub command, or any command in subscribed mode (router::decide):
 * its reply frames join the episode's stream slot. */
void ClientSession::forwardPubSub(const router::Decision& decision,
                                  const commands::RouteRequest& command, std::string_view bytes) {
  const bool resp3 = state_.resp == commands::Resp::V3;
  if (!pubsub_episode_open_ && !resp3) {
    pubsub_episode_open_ = true;
    queue_.openStream();
  }
  const std::string name = decision.route.spec != nullptr ? std::string(decision.route.spec->name)
                                                          : lowerName(command.name);
  std::vector<std::string_view> arguments;
  for (std::size_t i = 1; i < command.argc; ++i) arguments.push_back(command.args[i]);
  const std::size_t frames = pubsub_.apply(name, arguments);
  RequestPtr request = requestFromFrame(bytes);
  if (resp3) {
    // The request itself is gone once written (pass-through); its slot
    // waits for the confirmations.
    Slot& slot = queue_.add();
    slot.received_us = host_.clock().micros();
    confirmations_due_.push_back({&slot, frames});
    submit({std::move(request), router::Via::PubSub, frames});
    return;
  }
  ReplyQueue::Stream& stream = queue_.newestStream();
  stream.frames_total += frames;
  if (decision.blank_arguments) {
    request->payload.clear();
    commands::appendRespHeader(request->payload, '*', command.argc);
    commands::appendBulk(request->payload, name);
    for (std::size_t i = 1; i < command.argc; ++i) commands::appendBulk(request->payload, "x");
  }
  if (!pubsub_.subscribed()) {
    stream.closed = true;
    pubsub_episode_open_ = false;
  }
  submit({std::move(request), router::Via::PubSub, frames});
}

/* Answers `reply` itself in subscribed mode and leaves it (a refusal or a
 * RESET, router::decide): the proxy drops the dedicated connection (Redis
 * unsubscribes a closed client) and ends the episode. Its answer can take
 * its place among the pushes only when nothing is still on its way;
 * otherwise, and after a refusal, the client's connection is closed. */
void ClientSession::leavePubSub(std::string_view reply, bool close_after) {
  const bool quiet = pubsub_frames_due_ == 0 && !dedicated_.resubscribing() &&
                     !dedicated_.hasWaiting() && queue_.onlyOneStream();
  pubsub_.clear();
  pubsub_episode_open_ = false;
  dedicated_.stopResubscribing();
  dedicated_.retire();
  if (!quiet) {
    proxyLog()->info(
        "client connection closed: a refused command or RESET arrived in subscribed mode while "
        "replies were still due");
    closeAfterReplies();
    return;
  }
  ReplyQueue::Stream& stream = queue_.oldestStream();
  stream.closed = true;
  stream.frames_total = stream.frames_seen;
  finishStreams();
  answerNow(reply, close_after);
}

void ClientSession::onLaneFrame(std::string_view frame) {
  // A message shows the master's data (a keyspace notification names a
  // write): later reads must not be older.
  if (floorInUse()) floor_.heardFromMaster(router::ReadFloor::Clock::now());
  if (frame.starts_with('>')) {
    onResp3Push(frame);
    return;
  }
  // Not the protocol now: a RESET decided meanwhile made it RESP2, but
  // what was sent before it still gets RESP3's answers.
  if (!confirmations_due_.empty() && !queue_.streaming()) {
    onResp3PubSubError(frame);
    return;
  }
  if (PubSubTracker::isMessage(frame)) {
    if (queue_.streaming()) streamFrame(frame);
    return;
  }
  if (pubsub_frames_due_ > 0) --pubsub_frames_due_;
  if (!queue_.streaming()) return;
  ++queue_.oldestStream().frames_seen;
  streamFrame(frame);
  finishStreams();
}

void ClientSession::onResp3Push(std::string_view frame) {
  queue_.push(frame);
  scheduleFlush();
  if (!PubSubTracker::isConfirmation(frame)) return;  // a message, an invalidation
  if (pubsub_frames_due_ > 0) --pubsub_frames_due_;
  if (confirmations_due_.empty()) return;
  ConfirmationsDue& due = confirmations_due_.front();
  if (due.frames > 0) --due.frames;
  if (due.frames > 0) return;
  Slot& slot = *due.slot;
  confirmations_due_.pop_front();
  if (queue_.fill(slot, {})) close_after_output_ = true;
  if (!busy()) drainDeferred();
}

/* RESP3 confirms with pushes; a frame that is not one answers the oldest
 * pub/sub request instead (an error: -NOPERM for a channel the backend user
 * may not use), for all its channels. */
void ClientSession::onResp3PubSubError(std::string_view frame) {
  if (confirmations_due_.empty()) return;  // answers nothing the client asked
  const ConfirmationsDue due = confirmations_due_.front();
  confirmations_due_.pop_front();
  pubsub_frames_due_ -= std::min(pubsub_frames_due_, due.frames);
  countReply(frame);
  if (queue_.fill(*due.slot, frame)) close_after_output_ = true;
  scheduleFlush();
  if (!busy()) drainDeferred();
}

bool ClientSession::onLaneLost(std::uint64_t last_sent_txn) {
  // A RESP3 subscriber has no stream slot, and its other requests on the
  // connection (a transaction, a blocking command) are kept or aborted like
  // anyone's; its subscriptions are restored.
  const bool resp3_subscriber =
      !confirmations_due_.empty() || (state_.resp == commands::Resp::V3 && pubsub_.subscribed());
  if (!queue_.streaming() && !resp3_subscriber) {
    if (txn_.pinned() && txn_id_ == last_sent_txn) breakTransaction();
    return true;
  }
  const bool own_requests_pending =
      pubsub_frames_due_ > 0 || dedicated_.resubscribing() ||
      std::any_of(deferred_.begin(), deferred_.end(),
                  [](const Pending& pending) { return pending.how == router::Via::PubSub; });
  if (own_requests_pending) {
    // Replies to pub/sub requests in flight are lost and cannot be told
    // apart from a resubscription's: the client sees the disconnect it
    // would see from Redis, and resubscribes itself.
    proxyLog()->info(
        "pub/sub client disconnected: its connection to the master broke "
        "with pub/sub requests in flight");
    close();
    return false;
  }
  dedicated_.resubscribeOnConnect();  // onTick() or onMasterUpdate() reconnects
  if (resp3_subscriber && txn_.pinned() && txn_id_ == last_sent_txn) breakTransaction();
  return resp3_subscriber;
}

/* The dedicated connection was lost, or gave up, during the transaction:
 * every request of it still unanswered gets an error. If the client had
 * an answer that let it believe its WATCH or MULTI took effect, the
 * transaction is broken: EXEC aborts, and the client ends it; so it is
 * inside MULTI. If not (a WATCH that opened it was the request lost in
 * flight, or failed waiting), the client was told it did not start, as
 * Redis tells it when WATCH fails: it is forgotten. Kept as broken, it would answer
 * the client's next WATCH with an error, and the one after, for good
 * (redis-py retries a failed WATCH with WATCH: 75 errors in one SIGKILL run
 * of benchmarks/failover.py). */
void ClientSession::breakTransaction() {
  // Inside MULTI the client may have pipelined the queued commands and
  // EXEC: forgotten, they would run one by one outside any transaction.
  if (txn_acknowledged_ || txn_.in_multi) {
    txn_.broken = true;
  } else {
    txn_ = {};
  }
}

void ClientSession::onLaneGaveUp(bool subscriber) {
  if (txn_.pinned()) breakTransaction();
  // A subscriber without a master to listen to, or whose SUBSCRIBE never
  // went out: the disconnect tells it, as it tells a client of a Redis that
  // went away (its pub/sub replies, streamed or pushed, cannot be answered
  // in their place).
  if (subscriber || queue_.streaming() || pubsub_.subscribed() || !confirmations_due_.empty()) {
    close();
  }
}

void ClientSession::streamFrame(std::string_view frame) {
  queue_.streamFrame(frame);
  scheduleFlush();
}

/* An episode whose last reply frame arrived is over: its slot is done and
 * the connection leaves pass-through until the next SUBSCRIBE. */
void ClientSession::finishStreams() {
  queue_.finishStreams();
  if (!queue_.streaming() && pubsub_frames_due_ == 0) dedicated_.endPassThrough();
  takeReady();
  scheduleFlush();
  drainDeferred();
}

bool ClientSession::overPubSubLimit(std::uint64_t now_ms) {
  if (!pubsub_.subscribed() && !queue_.streaming()) {
    pubsub_limit_.reset();
    return false;
  }
  const config::OutputBufferLimit& limit = host_.config().proxy.client_output_buffer_limit_pubsub;
  const std::size_t unsent = unsentBytes();
  if (!pubsub_limit_.over(unsent, limit, now_ms)) return false;
  proxyLog()->warn(
      "client closed for overcoming of output buffer limits class=pubsub unsent_bytes={} "
      "limit=\"{}\" (proxy.client_output_buffer_limit_pubsub)",
      unsent, config::formatOutputBufferLimit(limit));
  host_.metrics().clients_output_limit_closed.add();
  close();
  return true;
}

}  // namespace rhp::proxy
