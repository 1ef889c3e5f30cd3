#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "commands/command_table.h"
#include "commands/resp_protocol.h"
#include "config/address.h"
#include "proxy/backend_login.h"

namespace rhp::router {
class ReadFloor;
}

namespace rhp::proxy {

/* A client's place in its reply order. Slots fill in any order (backend,
 * local answer, error) and only the ready prefix is written to the client. */
struct Slot {
  std::string reply;
  bool ready = false;
  bool filled = false;                // the reply came from a backend (not a local answer)
  bool streaming = false;             // pub/sub: frames pass through until it is ready
  bool close_after = false;           // QUIT, protocol error: close once written
  struct Request* request = nullptr;  // outstanding backend request, if any
  std::uint64_t received_us = 0;      // when the request arrived, for the latency histogram
  bool append_proxy_info = false;     // INFO: the reply gets a "# Proxy" section
  std::size_t request_bytes = 0;      // the request's size, counted in the client's backlog
  /* How far the request got, for its client's read floor (router::ReadFloor):
   * a write is Submitted when the client dispatches it, Sent once it is on
   * a connection. */
  enum class Reach : std::uint8_t { None, Submitted, Sent };
  Reach reach = Reach::None;
};

/* Who waits for a request's reply: a client session. */
class ReplySink {
 public:
  /* A backend (or the hold queue) answered the request that owns `slot`. */
  virtual void complete(Slot& slot, std::string_view reply) = 0;
  /* The request that owns `slot` left the client: to `replica` after its
   * read floor approved that replica, or (nullptr) to the master, its hold
   * queue, or a replica the floor did not choose (SCAN cursor): what those
   * return is within what the master had when the reply came. */
  virtual void sent(Slot& slot, const config::Address* replica) = 0;
  /* What the client has seen, for placing its reads (null: no limit). */
  virtual router::ReadFloor* readFloor() = 0;

 protected:
  ~ReplySink() = default;
};

/* Where a request's reply goes: a client session and the slot it keeps
 * for it, the two ends of one link. The session cancels it when the client
 * leaves (ReplyQueue::clear); the reply then goes nowhere, as redis-server
 * drops the reply to a client that disconnected. The proxy's own requests
 * (a SCRIPT LOAD copy for a replica, a DISCARD, a replayed MULTI) have none
 * from the start. */
struct ReplyTo {
  ReplySink* sink = nullptr;
  Slot* slot = nullptr;

  bool waiting() const { return sink != nullptr; }
  void cancel() { sink = nullptr, slot = nullptr; }
  void deliver(std::string_view reply) const {
    if (sink != nullptr) sink->complete(*slot, reply);
  }
  router::ReadFloor* readFloor() const { return sink != nullptr ? sink->readFloor() : nullptr; }
  void sentTo(const config::Address* replica) const {
    if (sink != nullptr) sink->sent(*slot, replica);
  }
};

/* A request on its way to a backend. Owned by whoever holds it now: the
 * hold queue, or a backend connection's in-flight list; its reply goes
 * where `reply_to` says, if anywhere. */
struct Request {
  std::string payload;  // RESP bytes, forwarded untouched
  std::uint32_t db = 0;
  /* Its client's protocol: the connection it travels on speaks it. */
  commands::Resp resp = commands::Resp::V2;
  /* Its client's Redis user in passthrough mode: it travels on a
   * connection logged in as that user (UserConnections). Null: the
   * proxy's own connections. */
  BackendLoginPtr login;
  ReplyTo reply_to;
  std::uint64_t held_at_ms = 0;         // loop time it entered the hold queue
  const ReplySink* held_for = nullptr;  // its client when held (HoldQueue's count)
  std::uint64_t sent_at_ms = 0;         // loop time it was handed to a connection
  std::uint64_t sent_at_us = 0;         // the same, precise, for latency metrics
  std::uint64_t backend_us = 0;         // from handing it to a connection to its reply
  std::uint8_t resends = 0;             // times it went back to the hold queue
  bool retry_safe = false;              // a read: repeating it changes nothing
  bool replica_ok = false;              // a read that any eligible replica may serve
  bool node_pinned = false;             // a SCAN cursor: only the node that issued it may serve it
  bool floor_checked = false;           // placed on a replica its client's read floor allows
  /* RESET on a dedicated connection: Redis leaves it as the default user in
   * db 0, so the connection logs in again behind it. */
  bool resets_connection = false;
  /* CLIENT TRACKING: whether it turns tracking on (the dedicated lane then
   * knows its connection tracks the client's reads). */
  bool enables_tracking = false;
  /* The client's transaction (WATCH/MULTI ... EXEC) it belongs to; 0: none.
   * A transaction part of which reached a master must not continue on
   * another. */
  std::uint64_t txn = 0;
  /* What the command is (its family in the command table): the dedicated
   * lane tells a transaction's MULTI, EXEC, DISCARD and WATCH from the
   * commands it queues (proxy/transaction_replay.h). */
  commands::Family family = commands::Family::None;
  /* A blocking command's timeout (commands::blockingTimeout): the argument
   * that holds it (0: none), its unit and its value, so that sent again it
   * waits only what was left (proxy/resume_timeout.h). */
  std::uint16_t timeout_arg = 0;
  bool timeout_millis = false;
  std::uint64_t timeout_ms = 0;
  std::uint64_t blocked_since_ms = 0;  // loop time it was first sent (0: not yet)
  /* The -READONLY the master answered. It is the client's answer (a
   * script's error_reply, say) unless the rediscovery it triggers shows
   * the node was demoted; then the request goes to the new master. */
  std::string readonly_reply;
};
class RequestPool;
/* Gives a request back to the pool it came from, or deletes it. */
struct RequestDeleter {
  RequestPool* pool = nullptr;
  void operator()(Request* request) const;
};
using RequestPtr = std::unique_ptr<Request, RequestDeleter>;

/* A request that belongs to no pool: for the proxy's own, rare requests. */
RequestPtr newRequest();

/* Hands `reply` to the client that sent `request`, if it is still there. */
inline void deliverReply(Request& request, std::string_view reply) {
  request.reply_to.deliver(reply);
}

}  // namespace rhp::proxy
