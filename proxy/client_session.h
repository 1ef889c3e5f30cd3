#pragma once

#include <uv.h>

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/uv_handle.h"
#include "proxy/auth_delay.h"
#include "proxy/client_stream.h"
#include "proxy/dedicated_lane.h"
#include "proxy/local_commands.h"
#include "proxy/pubsub_limit.h"
#include "proxy/pubsub_tracker.h"
#include "proxy/reply_queue.h"
#include "proxy/request.h"
#include "proxy/request_parser.h"
#include "proxy/session_host.h"
#include "router/decision.h"
#include "router/read_floor.h"

namespace rhp::proxy {

/* One client connection: parses its requests, asks the router where each
 * goes, and writes replies back in request order whatever order they are
 * answered in. Lives on one worker's loop.
 *
 * Most requests go over the worker's shared connections. Transactions,
 * blocking commands and pub/sub get a connection of the client's own (the
 * "dedicated" lane). A request never overtakes one of the same client on
 * the other lane: when the lane changes, it waits until the other lane's
 * requests are answered, as they would be on a single Redis connection.
 *
 * Defined in four files: client_session.cc (requests, lanes, replies),
 * client_session_pubsub.cc (pub/sub episodes),
 * client_session_backpressure.cc (the memory bounds) and
 * client_session_login.cc (passthrough AUTH). */
class ClientSession final : public ReplySink,
                            private DedicatedLane::Owner,
                            private ClientStream::Owner {
 public:
  /* With `tls`, a client of the TLS port (ClientStream). */
  ClientSession(SessionHost& host, net::UvHandle<uv_tcp_t> tcp,
                const std::shared_ptr<const net::TlsServerContext>& tls = nullptr);
  ~ClientSession();
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  void start();
  void close();

  void complete(Slot& slot, std::string_view reply) override;
  void sent(Slot& slot, const config::Address* replica) override;
  router::ReadFloor* readFloor() override;
  /* routing.read_your_writes applies: on, and read_policy "prefer-replica". */
  bool floorInUse() const;

  /* Writes the replies that are ready; called once per loop turn. */
  void flush();

  /* From the host, after a reload changed proxy.max_bulk_len or
   * max_array_len. */
  void setParserLimits(ParserLimits limits) { parser_.setLimits(limits); }
  /* After a reload: the client's user as now defined. A user that is gone
   * closes its clients, as ACL DELUSER does; one turned off keeps them (as
   * in Redis, "off" only stops new logins). */
  void onUsersChanged(const config::AclUsers& users);

  /* From the worker, for sessions that use a dedicated connection. */
  void onMasterUpdate(const std::optional<config::Address>& master);
  void onTick(std::uint64_t now_ms);
  /* Once a second for every client: closes it past
   * proxy.tls_handshake_timeout_ms without a TLS handshake, past
   * proxy.auth_timeout_ms without having authenticated, or idle past
   * proxy.timeout (Redis's `timeout`: a subscriber or a client waiting for
   * a reply is not idle). */
  void checkIdle(std::uint64_t now_ms);

  /* Bytes this client holds in the proxy: its unparsed input, replies not
   * yet written (queued for the socket or waiting for an earlier reply) and
   * its requests not yet answered. What proxy.maxmemory_clients adds up. */
  std::size_t memoryUsage() const;

  /* For a draining worker: nothing in flight (a subscriber only waits for
   * messages, so it counts as idle). */
  bool idleForDrain() const;
  /* Reads no more requests; closes once the replies owed are written. */
  void closeAfterReplies();

 private:
  /* Where the client's requests are in flight. The shared connections are
   * one per protocol (NodePool), so a HELLO that changes it starts another
   * lane: its requests wait for the ones before it, as on one connection.
   * Pub/sub requests are answered by frames the dedicated connection passes
   * through; a request matched by position waits until they came. */
  enum class Lane { Shared, SharedResp3, Dedicated, PubSub, PubSubResp3 };
  /* A request and how it leaves the session once its lane is free. */
  struct Pending {
    RequestPtr request;
    router::Via how;
    std::size_t frames = 0;  // PubSub: reply frames it produces
  };

  void startReading();
  // ClientStream::Owner
  void onStreamBytes(std::string_view bytes) override;
  void onStreamEnd() override { close(); }
  void onStreamWritten() override { onWritten(); }
  void onTlsFailure(net::TlsFailure failure, std::string_view reason,
                    std::string_view peer) override;
  std::size_t process(std::string_view in);
  /* Parses input_ (bytes kept from earlier reads) and drops what was used. */
  void parseBuffered();
  void handleRequest(std::string_view request_bytes);
  void execute(const router::Decision& decision, const commands::RouteRequest& request,
               std::string_view bytes);
  void forward(const router::Decision& decision, const commands::RouteRequest& command,
               std::string_view bytes);
  void forwardPubSub(const router::Decision& decision, const commands::RouteRequest& command,
                     std::string_view bytes);
  /* RESP3: a pub/sub request's slot, done once its confirmations came. */
  void onResp3Push(std::string_view frame);
  void onResp3PubSubError(std::string_view frame);
  void leavePubSub(std::string_view reply, bool close_after);
  void answerLocal(const router::Route& route, const commands::ArgAccess& args, std::size_t argc);
  void answerAfterAuthDelay(std::string_view reply);
  /* Passthrough (client_session_login.cc): AUTH, or HELLO with AUTH,
   * checked by the nodes; false for a command that logs in no one. */
  bool answerPassthroughLogin(router::LocalCommand local, const commands::ArgAccess& args,
                              std::size_t argc);
  /* The command run as redis-server would, now that the nodes accepted
   * its user and password; the answer. */
  std::string answerLoggedIn(router::LocalCommand local, const BackendLoginPtr& login,
                             const commands::ArgAccess& args, std::size_t argc);
  void onLoginChecked(std::string_view reply);
  /* Passthrough, before the client logged in: it is the nodes' `default`
   * as the worker knows it now (NodesDefaultUser). */
  void followNodesDefault();
  /* `slot` gets `reply` now, or after the AuthDelay if it is WRONGPASS. */
  void answerInSlot(Slot& slot, std::string_view reply);
  RequestPtr requestFromFrame(std::string_view bytes);
  RequestPtr makeRequest(std::string_view bytes, const router::Route& route);
  void submit(Pending pending);
  static Lane laneOf(const Pending& pending);
  bool switchesLane(const Pending& pending) const;
  bool busy() const { return lane_outstanding_ > 0 || pubsub_frames_due_ > 0; }
  void dispatch(Pending pending);
  void drainDeferred();

  // DedicatedLane::Owner
  std::string_view clientName() const override;
  commands::Resp protocol() const override { return state_.resp; }
  /* The Redis user its requests run as (passthrough; null: the proxy's). */
  BackendLoginPtr login() const override {
    return state_.login ? state_.login : host_.passthroughDefault();
  }
  std::string_view trackingCommand() const override { return tracking_confirmed_; }
  void noteTrackingReply(const Request& request, std::string_view reply);
  void onTrackingLost() override;
  std::string resubscribeCommands(std::size_t& frames) override;
  void onLaneFrame(std::string_view frame) override;
  bool onLaneLost(std::uint64_t last_sent_txn) override;
  void breakTransaction();
  void onLaneGaveUp(bool subscriber) override;
  void streamFrame(std::string_view frame);
  void finishStreams();

  void answerNow(std::string_view reply, bool close_after = false);
  /* Error replies, by kind and by user, for the metrics. */
  void countReply(std::string_view reply);
  /* The slot of the client's user now (nullptr past WorkerMetrics::kMaxUsers). */
  UserMetrics* userMetrics();
  void takeReady();
  void scheduleFlush();
  void onWritten();
  void stopReading();

  // Memory bounds: proxy.client_output_backlog (backpressure) and
  // proxy.client_output_buffer_limit_pubsub (disconnect).
  /* Reply bytes not yet taken by the kernel: the queue's output, the write
   * queue, and replies waiting behind an earlier one. */
  std::size_t unsentBytes() const;
  /* Whether the next request may be parsed: the backlog (unsent replies and
   * requests not yet answered) is under proxy.client_output_backlog and
   * fewer than window() requests await replies. */
  bool hasRoom() const;
  std::size_t window() const;
  void pauseForRoom();
  void resumeIfRoom();
  /* Closes a subscriber over its pub/sub limits; true if it did. */
  bool overPubSubLimit(std::uint64_t now_ms);
  /* Tells the worker how much memory this client holds now. */
  void account();

  SessionHost& host_;
  DedicatedLane dedicated_;  // transactions, blocking commands, pub/sub
  AuthDelay auth_delay_;     // wrong-password answers wait
  ClientStream stream_;
  struct Unobserved {
    std::uint64_t received_us;
    std::uint64_t backend_us;
  };
  std::vector<Unobserved> unobserved_;  // replies completed, latency not yet observed
  RequestParser parser_;
  ClientState state_;
  /* The user userMetrics() last looked up, held so that its address is not
   * reused by another user while compared. */
  std::shared_ptr<const config::AclUser> metered_user_;
  UserMetrics* user_metrics_ = nullptr;
  std::string input_;  // bytes of a request that has not fully arrived
  ReplyQueue queue_;   // replies in request order
  bool flush_scheduled_ = false;
  bool reading_ = false;
  bool paused_for_room_ = false;    // reading stopped by hasRoom(), not by the client
  std::size_t request_bytes_ = 0;   // requests parsed and not yet answered
  std::size_t reply_estimate_ = 0;  // recent reply size (0: none yet), for window()
  std::size_t reported_bytes_ = 0;  // memoryUsage() as the worker last heard it
  PubSubLimit pubsub_limit_;

  /* A passthrough AUTH a node is checking: the command (its arguments)
   * and the slot its answer goes to. Requests after it wait. */
  struct LoginCheck {
    router::LocalCommand local;
    std::vector<std::string> args;
    std::shared_ptr<BackendLogin> login;  // LoginProbe fills in `refused`
    Slot* slot;
  };
  std::optional<LoginCheck> login_check_;
  bool processing_ = false;  // in process(): it goes on after a login check itself

  bool input_closed_ = false;  // QUIT or protocol error: no more requests
  bool close_after_output_ = false;
  bool closed_ = false;

  // Routing state.
  std::optional<std::uint64_t> last_write_ms_;  // the last request sent to the master
  std::optional<config::Address> scan_node_;
  router::ReadFloor floor_;  // what the client has seen, for routing.read_your_writes
  Lane lane_ = Lane::Shared;
  BackendLoginPtr lane_login_;        // passthrough: the user lane_'s requests run as
  std::size_t lane_outstanding_ = 0;  // dispatched on lane_, not yet answered
  std::deque<Pending> deferred_;      // waiting for the other lane to go quiet
  bool draining_ = false;

  std::uint64_t last_read_ms_ = 0;              // the client's last bytes
  std::uint64_t unauthenticated_since_ms_ = 0;  // refreshed while authenticated
  router::Transaction txn_;
  std::uint64_t txn_id_ = 0;  // tags the transaction's requests (Request::txn) while pinned
  std::uint64_t txn_sequence_ = 0;
  /* A request of transaction txn_id_ was answered without an error: the
   * client knows its WATCH or MULTI took effect (breakTransaction). */
  bool txn_acknowledged_ = false;
  PubSubTracker pubsub_;  // as of the requests parsed so far
  bool pubsub_episode_open_ = false;
  std::size_t pubsub_frames_due_ = 0;  // reply frames dispatched, not yet received
  /* RESP3 has no stream slot: each pub/sub request has a slot of its own,
   * whose confirmations (pushes) go out before it is done. */
  struct ConfirmationsDue {
    Slot* slot;
    std::size_t frames;
  };
  std::deque<ConfirmationsDue> confirmations_due_;
  /* CLIENT TRACKING ON as sent, from when it is decided (the client's
   * commands then use its own connection), and as Redis accepted it (what
   * a new connection sends again). Empty: tracking off. */
  std::string tracking_command_;
  std::string tracking_confirmed_;
};

}  // namespace rhp::proxy
