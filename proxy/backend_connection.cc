#include "proxy/backend_connection.h"

#include "commands/resp_array.h"

#include <algorithm>
#include <span>

#include <spdlog/spdlog.h>

#include <stdexcept>

#include "proxy/metrics.h"
#include "proxy/proxy_log.h"
#include "router/errors.h"

namespace rhp::proxy {

namespace {

constexpr std::string_view kReadOnlyPrefix = "-READONLY";
constexpr std::string_view kNoScriptPrefix = "-NOSCRIPT";
constexpr std::uint8_t kMaxResends = 3;
/* The least room a read gets: redis-server writes replies in 16 KiB
 * chunks (PROTO_REPLY_CHUNK_BYTES); the framer's buffer usually has more. */
constexpr std::size_t kReadChunk = 16 * 1024;

}  // namespace

BackendConnection::BackendConnection(uv_loop_t* loop, const config::Address& address,
                                     const config::Config::Backend& settings, const BackendTls& tls,
                                     BackendEvents& events,
                                     FlushList<BackendConnection>& flush_list, EventClock& clock,
                                     commands::Resp resp, BackendLoginPtr login)
    : loop_(loop),
      address_(address),
      settings_(settings),
      tls_(tls),
      events_(events),
      flush_list_(flush_list),
      clock_(clock),
      login_(std::move(login)),
      link_(loop, *this),
      connect_resp_(resp),
      lost_error_(errors::kMasterLostInFlight) {
  link_.holdTimeoutUntilConfirmed();  // see onLinkUp()
}

BackendConnection::~BackendConnection() {
  if (flush_scheduled_) flush_list_.remove(this);
  for (auto& entry : in_flight_) {
    if (entry.request) deliverReply(*entry.request, lost_error_);
  }
}

void BackendConnection::connect() {
  if (state_ != State::Down) return;
  state_ = State::Connecting;
  login_refusal_.clear();
  // The lookup (for a name) and the connect both count against
  // backend.connect_timeout_ms: a slow DNS server holds no request longer.
  if (const int error =
          link_.connect(address_.host, address_.port, settings_.connect_timeout, tls_);
      error != 0) {
    fail(uv_strerror(error), lost_error_);
  }
}

void BackendConnection::onLinkDown(int status) {
  if (state_ == State::Connecting && status == UV_ETIMEDOUT) {
    fail("connect timed out (backend.connect_timeout_ms)", lost_error_);
  } else if (state_ == State::Verifying && status == UV_ETIMEDOUT) {
    fail("no answer to the first command within backend.connect_timeout_ms", lost_error_);
  } else if (status == UV_EOF) {
    fail("connection closed by the backend", lost_error_);
  } else {
    fail(link_.describe(status), lost_error_);
  }
}

std::span<char> BackendConnection::readRoom() {
  // Straight into the framer's buffer: replies are framed where they land.
  return framer_.prepare(kReadChunk);
}

/* Under TLS 1.3 the link comes up before the node has checked the proxy's
 * certificate: a node with tls-auth-clients that refuses it (an untrusted
 * CA, an expired certificate) sends its alert one round trip later. Were
 * the connection ready at once, the pool would write client requests on it
 * that then fail as "outcome unknown" (Redis never ran them), and would
 * reset its reconnect backoff to 25 ms each time. In the TlsLab test of a
 * refused certificate that was 93 doomed connections in 3 s from one
 * connection slot, and 76 writes lost as "outcome unknown". So a TLS
 * connection is ready only once the node has answered its first command
 * (AUTH, HELLO, or a PING sent for the purpose); until then it is still
 * connecting, within backend.connect_timeout_ms
 * (net::StreamLink::holdTimeoutUntilConfirmed). That costs one round trip
 * per TLS connect; plain TCP has no such gap and is ready at once. */
void BackendConnection::onLinkUp() {
  // A passthrough user's connection waits for its AUTH's answer too: Redis
  // runs what follows a refused AUTH as the connection's user so far,
  // `default`, so nothing of the client's may be behind it on the wire.
  state_ = link_.secured() || login_ ? State::Verifying : State::Ready;
  db_ = 0;
  resp_ = commands::Resp::V2;  // what Redis starts a connection with
  framer_ = ReplyFramer();
  sendAuth();
  useProtocol(connect_resp_);
  if (state_ == State::Ready) {
    link_.confirmed();  // plain TCP: nothing more to wait for
    events_.onConnectionReady(*this);
    return;
  }
  if (in_flight_.empty()) {
    appendCommand({"PING"});
    in_flight_.push_back({nullptr});
    ++unflushed_;
  }
}

void BackendConnection::becomeReady() {
  state_ = State::Ready;
  link_.confirmed();
  events_.onConnectionReady(*this);
}

void BackendConnection::sendAuth() {
  if (login_) {
    appendCommand({"AUTH", login_->username, login_->password});
    in_flight_.push_back({nullptr});
    ++unflushed_;
    return;
  }
  if (settings_.password.empty()) return;
  if (settings_.username.empty()) {
    appendCommand({"AUTH", settings_.password});
  } else {
    appendCommand({"AUTH", settings_.username, settings_.password});
  }
  in_flight_.push_back({nullptr});
  ++unflushed_;
}

void BackendConnection::useProtocol(commands::Resp resp) {
  if (resp == resp_) return;
  appendCommand({"HELLO", resp == commands::Resp::V3 ? "3" : "2"});
  in_flight_.push_back({nullptr});
  ++unflushed_;
  resp_ = resp;
}

void BackendConnection::send(RequestPtr request) {
  if (request->login && request->login != login_ &&
      (!login_ || request->login->username != login_->username)) {
    // Its client logged in as another user since this connection was made
    // (a dedicated one): Redis runs what follows as that user, in order.
    // A refusal takes the connection down (loginRefusal), as at connect.
    // Another password of the same user changes no right: no AUTH (while
    // a password is rotated, clients with the old and the new one share a
    // user's connection, and would otherwise put an AUTH between requests).
    login_ = request->login;
    sendAuth();
  }
  useProtocol(request->resp);
  if (request->db != db_) {
    appendCommand({"SELECT", std::to_string(request->db)});
    in_flight_.push_back({nullptr});
    ++unflushed_;
    db_ = request->db;
  }
  request->sent_at_ms = uv_now(loop_);
  append(request->payload);
  const bool resets = request->resets_connection;
  in_flight_.push_back({std::move(request)});
  ++unflushed_;
  if (resets) {
    // Without this, the connection would go on as Redis's default user
    // (past the proxy's ACL user) and in db 0 while db_ says otherwise.
    // RESET also takes it back to RESP2, as it does its client.
    db_ = 0;
    resp_ = commands::Resp::V2;
    sendAuth();
  }
}

void BackendConnection::append(std::string_view bytes) {
  batch_.append(bytes);
  if (!flush_scheduled_) {
    flush_scheduled_ = true;
    flush_list_.add(this);
  }
}

void BackendConnection::appendCommand(std::initializer_list<std::string_view> args) {
  append(commands::respCommand(args));
}

void BackendConnection::flush() {
  flush_scheduled_ = false;
  if (batch_.empty() || (state_ != State::Ready && state_ != State::Verifying)) return;
  const int rc = link_.sendBytes(std::exchange(batch_, {}));
  if (rc != 0) {
    fail(link_.describe(rc), lost_error_);
    return;
  }
  // Stamped at the write, not at send(): time waiting for the end of the
  // loop turn is the proxy's, not the backend's.
  const std::uint64_t written_at = clock_.micros();
  for (auto entry = in_flight_.end() - static_cast<std::ptrdiff_t>(unflushed_);
       entry != in_flight_.end(); ++entry) {
    if (entry->request) entry->request->sent_at_us = written_at;
  }
  unflushed_ = 0;
}

void BackendConnection::onBytesIn(std::span<const char> bytes) {
  read_at_us_ = clock_.refresh();
  // The bytes are already in the framer's buffer (readRoom).
  framer_.commit(bytes.size());
  if (state_ == State::Verifying) {
    // The first reply answers one of our setup commands (onReply consumes
    // it); unless it was an error, the node has accepted the proxy.
    if (!takeReply()) return;
    if (state_ == State::Verifying) becomeReady();
  }
  while (state_ == State::Ready && takeReply()) {
  }
}

bool BackendConnection::takeReply() {
  std::string_view frame;
  bool is_error = false;
  const auto result = framer_.next(frame, is_error);
  if (result == ReplyFramer::Result::NeedMore) return false;
  if (result == ReplyFramer::Result::Corrupt) {
    // Only this link goes: its other requests' outcomes are unknown.
    proxyLog()->warn("unparseable reply from a node, dropping the link address={} in_flight={}",
                     address_.toString(), in_flight_.size());
    fail("unparseable reply from the backend", lost_error_);
    return false;
  }
  onReply(frame, is_error, framer_.kind());
  return true;
}

void BackendConnection::onReply(std::string_view frame, bool is_error, char kind) {
  // A push (pub/sub, client tracking) is out of band: Redis writes it
  // between replies, and it answers nothing. Matched requests are only sent
  // ahead of pass-through bytes, so while any is written a frame that is
  // not a push is its reply.
  if (kind == '>' || (pass_through_ && in_flight_.size() == unflushed_)) {
    events_.onPassThrough(*this, frame);
    return;
  }
  if (in_flight_.empty() || in_flight_.size() == unflushed_) {
    fail("reply without a request", lost_error_);
    return;
  }
  RequestPtr request = std::move(in_flight_.front().request);
  in_flight_.pop_front();
  if (!request) {
    if (is_error && login_ && (frame.starts_with("-WRONGPASS") || frame.starts_with("-NOPERM"))) {
      // A passthrough user's login: its owner says why, once per user and
      // node, and answers the user's requests with the node's own words.
      login_refusal_ = frame;  // before fail(): the owner reads it there
      fail("the node refused the user's AUTH", login_refusal_);
      return;
    }
    if (is_error) {
      proxyLog()->error("backend rejected a proxy command address={} reply=\"{}\"",
                        address_.toString(), frame.substr(0, frame.size() - 2));
      // Our SELECT or AUTH failed: what follows would run in the wrong
      // database or unauthenticated, so nothing more goes over this link.
      fail("setup command rejected", lost_error_);
    }
    return;
  }
  if (is_error && (frame.starts_with(kReadOnlyPrefix) || frame.starts_with(kNoScriptPrefix)) &&
      request->resends < kMaxResends) {
    ++request->resends;
    events_.onRejected(*this, std::move(request), frame);
    return;
  }
  request->backend_us = read_at_us_ - std::min(read_at_us_, request->sent_at_us);
  deliverReply(*request, frame);
}

void BackendConnection::checkTimeout(std::uint64_t now_ms) {
  if (state_ != State::Ready || in_flight_.size() == unflushed_) return;
  for (auto& entry : in_flight_) {
    if (!entry.request) continue;
    if (now_ms - entry.request->sent_at_ms >=
        static_cast<std::uint64_t>(settings_.request_timeout.count())) {
      proxyLog()->warn("backend request timed out address={} in_flight={} timeout_ms={}",
                       address_.toString(), in_flight_.size() - unflushed_,
                       settings_.request_timeout.count());
      // The one that timed out fails even if it is a read: sending it again
      // to the same slow node would stretch the client's wait past the
      // timeout. Reads queued behind it go out again on a new connection.
      deliverReply(*entry.request, errors::kRequestTimeout);
      entry.request.reset();
      fail("request timed out", errors::kRequestTimeout);
    }
    return;  // only the oldest request matters: replies come in order
  }
}

void BackendConnection::fail(std::string_view reason, std::string_view error) {
  if (state_ == State::Down) return;
  last_failure_ = reason;
  proxyLog()->debug("backend connection down address={} reason=\"{}\" in_flight={}",
                    address_.toString(), reason, in_flight_.size());
  state_ = State::Down;
  link_.close();
  if (flush_scheduled_) {
    flush_list_.remove(this);
    flush_scheduled_ = false;
  }
  batch_.clear();
  framer_ = ReplyFramer();
  std::vector<RequestPtr> unsent;
  const std::size_t written = in_flight_.size() - unflushed_;
  auto entries = std::exchange(in_flight_, {});
  unflushed_ = 0;
  lost_in_flight_ = 0;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (!entries[i].request) continue;
    /* A written request's outcome is unknown: a write may have been
     * applied, and an INCR or LPUSH applied twice silently changes data, so
     * it fails. A read changes nothing and goes back to be sent again. */
    const bool resend = i >= written || (entries[i].request->retry_safe &&
                                         entries[i].request->resends < kMaxResends);
    if (!resend) {
      ++lost_in_flight_;
      deliverReply(*entries[i].request, error);
    } else {
      if (i < written) {
        ++entries[i].request->resends;
        ++resent_;
      }
      unsent.push_back(std::move(entries[i].request));
    }
  }
  events_.onConnectionDown(*this, std::move(unsent));
}

}  // namespace rhp::proxy
