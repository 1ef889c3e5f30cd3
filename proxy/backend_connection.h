#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"
#include "net/stream_link.h"
#include "proxy/backend_login.h"
#include "proxy/event_clock.h"
#include "proxy/flush_list.h"
#include "proxy/reply_framer.h"
#include "proxy/request.h"

namespace rhp::proxy {

class BackendConnection;

/* The TLS context backend connections are made with (null: plain TCP). One
 * per worker, which a reload replaces; connections read it as they connect. */
using BackendTls = std::shared_ptr<const net::TlsClientContext>;

/* Implemented by the pool that owns the connection. */
class BackendEvents {
 public:
  virtual ~BackendEvents() = default;
  virtual void onConnectionReady(BackendConnection& connection) = 0;
  /* The connection is gone. `unsent` never reached the backend, or are
   * reads that are safe to repeat, and may be sent elsewhere; the writes
   * that were written have already been failed. */
  virtual void onConnectionDown(BackendConnection& connection, std::vector<RequestPtr> unsent) = 0;
  /* The node answered -READONLY or -NOSCRIPT (`frame`): the request was not
   * executed, and another node may take it. */
  virtual void onRejected(BackendConnection& connection, RequestPtr request,
                          std::string_view frame) = 0;
  /* A frame no request of ours is waiting for: in pass-through mode, and
   * every RESP3 push ('>'), which answers no request. */
  virtual void onPassThrough(BackendConnection&, std::string_view) {}
};

/* One multiplexed connection to a redis node. Requests from many clients
 * are appended to one write per loop turn; replies come back in order and
 * are matched to requests by position. A client's SELECT is applied by
 * sending SELECT ahead of its request when the connection is on another db,
 * and its protocol by sending HELLO when the connection speaks the other
 * one; the replies to those (and to AUTH) are consumed here. RESP3 pushes
 * answer no request and never take a request's reply. */
class BackendConnection : private net::StreamLink::Owner {
 public:
  /* `resp`: the protocol it switches to as it connects (a pool's RESP3
   * connections); a dedicated one follows its requests'. `tls` (the
   * worker's, replaced by a reload) is read at each connect; null: plain. */
  BackendConnection(uv_loop_t* loop, const config::Address& address,
                    const config::Config::Backend& settings, const BackendTls& tls,
                    BackendEvents& events, FlushList<BackendConnection>& flush_list,
                    EventClock& clock, commands::Resp resp = commands::Resp::V2,
                    BackendLoginPtr login = nullptr);
  ~BackendConnection() override;
  BackendConnection(const BackendConnection&) = delete;
  BackendConnection& operator=(const BackendConnection&) = delete;

  void connect();
  bool ready() const { return state_ == State::Ready; }
  bool idle() const { return state_ == State::Down; }
  std::size_t outstanding() const { return in_flight_.size(); }

  void send(RequestPtr request);
  void flush();
  /* Sends HELLO first if the connection speaks the other protocol (before
   * sendRaw(): send() does it itself). Precondition: ready(). */
  void useProtocol(commands::Resp resp);
  commands::Resp protocol() const { return resp_; }

  /* Pass-through mode, for a pub/sub connection: bytes sent with sendRaw()
   * expect no matched reply, and every frame that does not answer one of
   * the proxy's own setup commands goes to onPassThrough(). */
  void setPassThrough(bool on) { pass_through_ = on; }
  void sendRaw(std::string_view bytes) { append(bytes); }

  /* Fails everything written longer than request_timeout ago. */
  void checkTimeout(std::uint64_t now_ms);

  /* The error in-flight requests get if the connection breaks. */
  void setLostError(std::string_view error) { lost_error_ = error; }
  /* Written reads handed back to be sent again since the last call. */
  std::uint64_t takeResent() { return std::exchange(resent_, 0); }
  /* Why the connection last went down ("connect timed out", "TLS: ..."). */
  const std::string& lastFailure() const { return last_failure_; }
  /* Its kind, when TLS was why (for the metrics). */
  std::optional<net::TlsFailure> tlsFailure() const { return link_.tlsFailure(); }
  /* The node's error when it refused the connection's AUTH (a passthrough
   * user it does not know, or whose password changed); empty otherwise.
   * Set when the connection goes down for that reason. */
  const std::string& loginRefusal() const { return login_refusal_; }
  /* Logs in as `login` from the next connect on (null: the section's
   * user). A request with another login switches a ready connection
   * itself (send()). */
  void setLogin(BackendLoginPtr login) { login_ = std::move(login); }
  const BackendLoginPtr& login() const { return login_; }
  /* Requests the last fail() answered with its error: written, not
   * answered, and not safe to send again. */
  std::size_t lostInFlight() const { return lost_in_flight_; }

  /* Drops the connection: written requests get `error`. */
  void fail(std::string_view reason, std::string_view error);

 private:
  /* Verifying: TLS, or a passthrough user. The link is up but the node has
   * not answered yet;
   * see onLinkUp(). */
  enum class State { Down, Connecting, Verifying, Ready };
  struct InFlight {
    RequestPtr request;  // null: a SELECT or AUTH of our own
  };

  // net::StreamLink::Owner
  std::span<char> readRoom() override;
  void onBytesIn(std::span<const char> bytes) override;
  void onLinkUp() override;
  void onLinkDown(int status) override;
  /* Frames the next reply and hands it to onReply(). False when none is
   * complete yet, or the stream is corrupt (the connection failed then). */
  bool takeReply();
  void onReply(std::string_view frame, bool is_error, char kind);
  void becomeReady();
  void append(std::string_view bytes);
  /* AUTH with the backend credentials, if any, as a proxy command. */
  void sendAuth();
  void appendCommand(std::initializer_list<std::string_view> args);

  uv_loop_t* loop_;
  config::Address address_;
  const config::Config::Backend& settings_;
  const BackendTls& tls_;
  BackendEvents& events_;
  FlushList<BackendConnection>& flush_list_;
  EventClock& clock_;
  State state_ = State::Down;
  std::string last_failure_;
  std::string login_refusal_;
  BackendLoginPtr login_;
  net::StreamLink link_;
  ReplyFramer framer_;
  std::deque<InFlight> in_flight_;
  std::size_t unflushed_ = 0;  // trailing entries of in_flight_ not yet written
  std::string batch_;
  bool flush_scheduled_ = false;
  bool pass_through_ = false;
  std::uint32_t db_ = 0;
  commands::Resp resp_ = commands::Resp::V2;  // what the node speaks to us now
  commands::Resp connect_resp_;               // what it is switched to as it connects
  std::string_view lost_error_;
  std::uint64_t resent_ = 0;
  std::size_t lost_in_flight_ = 0;
  std::uint64_t read_at_us_ = 0;  // when the bytes being framed arrived
};

}  // namespace rhp::proxy
