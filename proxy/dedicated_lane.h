#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "proxy/backend_connection.h"
#include "proxy/request.h"
#include "proxy/session_host.h"
#include "proxy/transaction_replay.h"

namespace rhp::proxy {

class ClientSession;

/* A client's own connection to the master, for what cannot share one:
 * transactions, blocking commands, pub/sub. It follows the master,
 * passes the same write fence as pooled writes, keeps requests in order
 * while it cannot send them (no master, fence closed, connecting), gives
 * up after failover.hold_ms, and decides what survives a lost connection:
 * a transaction whose EXEC did not reach the old master is restored on the
 * next one (TransactionReplay), one with requests in flight is aborted
 * with a certain answer, anything that sent nothing goes to the next
 * connection, and a subscriber is subscribed again. */
class DedicatedLane final : private BackendEvents {
 public:
  /* The client session the lane serves. */
  class Owner {
   public:
    /* The client's name (CLIENT SETNAME), given to each new connection. */
    virtual std::string_view clientName() const = 0;
    /* The client's protocol, which each new connection speaks. */
    virtual commands::Resp protocol() const = 0;
    /* The Redis user each new connection logs in as (passthrough; null:
     * the proxy's own, backend.username). */
    virtual BackendLoginPtr login() const = 0;
    /* The client's CLIENT TRACKING ON request as it sent it, or empty. */
    virtual std::string_view trackingCommand() const = 0;
    /* The connection that tracked the client's reads is gone, and the
     * invalidations it would have pushed with it: the client must drop its
     * whole cache. */
    virtual void onTrackingLost() = 0;
    /* The commands that restore the client's subscriptions, and how many
     * confirmations they bring (PubSubTracker::resubscribeCommands). */
    virtual std::string resubscribeCommands(std::size_t& frames) = 0;
    /* A pass-through frame for the client: a reply to its pub/sub request
     * or a message. The lane's own resubscription confirmations are not. */
    virtual void onLaneFrame(std::string_view frame) = 0;
    /* The connection broke. `last_sent_txn`: the last transaction a request
     * of which was written to it. The owner may end the client, or have a
     * subscriber resubscribed (resubscribeOnConnect); true: the lane keeps
     * its requests for the next connection (aborting those of a
     * transaction that reached the old master). */
    virtual bool onLaneLost(std::uint64_t last_sent_txn) = 0;
    /* No master could be reached within failover.hold_ms: the waiting
     * requests were failed; `subscriber`: the client's subscriptions are
     * lost too. */
    virtual void onLaneGaveUp(bool subscriber) = 0;

   protected:
    ~Owner() = default;
  };

  DedicatedLane(SessionHost& host, ClientSession& session, Owner& owner);
  ~DedicatedLane() override;
  DedicatedLane(const DedicatedLane&) = delete;
  DedicatedLane& operator=(const DedicatedLane&) = delete;

  /* Writes `request` now if the connection is up, nothing waits before it
   * and its fence passes (router::dedicatedFence); else it waits, in
   * order, and the lane connects. `raw`: a pub/sub request, written in
   * pass-through mode and answered by frames (Owner::onLaneFrame). */
  void send(RequestPtr request, bool raw);

  /* From the worker, while registered (SessionHost::masterForDedicated). */
  void onMasterUpdate(const std::optional<config::Address>& master);
  void onTick(std::uint64_t now_ms);

  /* Drops the connection (Redis unsubscribes and forgets a client that
   * closed); requests still waiting stay for the next one. */
  void retire();
  /* The pub/sub episode is over: frames are replies again. */
  void endPassThrough();
  /* After a lost connection, a subscriber's subscriptions are sent again
   * on the next one. */
  void resubscribeOnConnect();
  /* The client left subscribed mode itself (RESET, a refusal). */
  void stopResubscribing() { resubscribe_on_connect_ = false; }
  /* For good: the client closed. */
  void shutdown();

  bool hasWaiting() const { return !waiting_.empty(); }
  /* A request of transaction `txn` was answered with an error. */
  void noteTransactionError(std::uint64_t txn) { replay_.noteQueueError(txn); }
  /* Confirmations of the lane's own resubscription are still due. */
  bool resubscribing() const { return resubscribe_frames_ > 0; }

 private:
  struct Waiting {
    RequestPtr request;
    bool raw;
  };

  void connect();
  void sendWaiting();
  void failWaiting(std::string_view error);
  /* Requests (or a subscriber's subscriptions) wait for a connection:
   * they fail after failover.hold_ms. */
  bool holdsRequests() const { return !waiting_.empty() || resubscribe_on_connect_; }
  /* ... or a tracking client's tracking must be enabled again, so that
   * its next read finds it on. */
  bool needsConnection() const {
    return holdsRequests() || (tracking_lost_ && !owner_.trackingCommand().empty());
  }
  void loseTracking();

  void onConnectionReady(BackendConnection& connection) override;
  void onConnectionDown(BackendConnection& connection, std::vector<RequestPtr> unsent) override;
  void onRejected(BackendConnection& connection, RequestPtr request,
                  std::string_view frame) override;
  void onPassThrough(BackendConnection& connection, std::string_view frame) override;

  SessionHost& host_;
  ClientSession& session_;  // as the worker's registry knows it
  Owner& owner_;
  std::unique_ptr<BackendConnection> connection_;
  std::optional<config::Address> master_;  // the node connection_ goes to
  std::vector<Waiting> waiting_;           // until the connection is ready and the fence passes
  std::uint64_t waiting_since_ms_ = 0;     // the oldest waiting request's, for failover.hold_ms
  bool registered_ = false;                // with the worker, for master updates and ticks
  bool shut_down_ = false;
  /* The last transaction a request of which was written to the
   * connection. Waiting requests are newer than written ones, so a waiting
   * request of any other transaction has nothing on the old master. */
  std::uint64_t last_sent_txn_ = 0;
  TransactionReplay replay_;  // the transaction being written, to restore it on the next connection
  bool resubscribe_on_connect_ = false;  // the connection was lost while subscribed
  /* CLIENT TRACKING ON was written on the current connection; and a
   * connection with tracking on was lost, so the next one enables it again
   * before anything else and the client's cache is flushed. */
  bool tracking_on_connection_ = false;
  bool tracking_lost_ = false;
  std::size_t resubscribe_frames_ = 0;  // confirmations of our own resubscription to drop
};

}  // namespace rhp::proxy
