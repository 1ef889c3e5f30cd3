#include "proxy/transaction_replay.h"

#include "commands/resp_array.h"

namespace rhp::proxy {

using commands::Family;

void TransactionReplay::restart(std::uint64_t id) {
  id_ = id;
  sent_.clear();
  watched_ = multi_open_ = finished_ = nil_exec_ = dirty_ = false;
}

void TransactionReplay::noteSent(const Request& request) {
  if (request.txn != id_) restart(request.txn);
  if (finished_) return;
  switch (request.family) {
    case Family::Watch:
      if (!multi_open_) watched_ = true;
      break;
    case Family::Unwatch:
      // Outside MULTI it ends the transaction: nothing is left to restore.
      if (!multi_open_) finished_ = true;
      break;
    case Family::Multi:
      multi_open_ = true;
      break;
    case Family::Exec:
    case Family::Discard:
      finished_ = multi_open_;
      multi_open_ = false;
      break;
    default:
      break;
  }
  // RESET ends the block and unwatches, as EXEC would.
  if (request.resets_connection) finished_ = true;
  // Only MULTI and what it queues: a command between WATCH and MULTI ran
  // at once, and running it again would apply it twice.
  if (!finished_ && multi_open_)
    sent_.push_back({request.payload, request.db, request.family, request.resp});
}

void TransactionReplay::noteQueueError(std::uint64_t txn) {
  if (txn == id_ && multi_open_) dirty_ = true;
}

std::optional<std::vector<RequestPtr>> TransactionReplay::onLost(std::size_t in_flight) {
  if (id_ == 0 || finished_ || dirty_ || in_flight > 0) return std::nullopt;
  std::vector<RequestPtr> replay;
  const bool watched = watched_ || nil_exec_;
  for (const Sent& sent : sent_) {
    // With a WATCH lost, only the block itself is restored, so that what
    // the client queues next is queued, not run; EXEC then answers nil.
    if (watched && sent.family != Family::Multi) continue;
    if (sent.family == Family::Watch || sent.family == Family::Unwatch) continue;
    RequestPtr request = newRequest();  // no session: replies the client has are dropped
    request->payload = sent.payload;
    request->db = sent.db;
    request->resp = sent.resp;
    request->family = sent.family;
    request->txn = id_;
    replay.push_back(std::move(request));
  }
  sent_.clear();
  watched_ = multi_open_ = false;
  nil_exec_ = watched;
  return replay;
}

bool TransactionReplay::answersNil(const Request& request) const {
  return nil_exec_ && request.txn == id_ && request.family == Family::Exec && multi_open_;
}

RequestPtr TransactionReplay::discardFor(const Request& exec) {
  RequestPtr discard = newRequest();
  discard->payload = commands::respCommand({"DISCARD"});
  discard->db = exec.db;
  discard->resp = exec.resp;
  discard->family = Family::Discard;
  discard->txn = exec.txn;
  return discard;
}

}  // namespace rhp::proxy
