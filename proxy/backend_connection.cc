#include "proxy/backend_connection.h"

#include "commands/resp_array.h"

#include <algorithm>
#include <limits>
#include <span>

#include <spdlog/spdlog.h>

#include <stdexcept>

#include "proxy/metrics.h"
#include "router/errors.h"

namespace rhp::proxy {

namespace {

std::shared_ptr<spdlog::logger> logger() {
  return spdlog::get("proxy");
}

struct WriteBatch {
  uv_write_t request{};
  std::string bytes;
};

constexpr std::string_view kReadOnlyPrefix = "-READONLY";
constexpr std::string_view kNoScriptPrefix = "-NOSCRIPT";
constexpr std::uint8_t kMaxResends = 3;
/* The least room a read gets: redis-server writes replies in 16 KiB
 * chunks (PROTO_REPLY_CHUNK_BYTES); the framer's buffer usually has more. */
constexpr std::size_t kReadChunk = 16 * 1024;

}  // namespace

BackendConnection::BackendConnection(uv_loop_t* loop, const config::Address& address,
                                     const config::Config::Backend& settings, BackendEvents& events,
                                     FlushList<BackendConnection>& flush_list, EventClock& clock)
    : loop_(loop),
      address_(address),
      settings_(settings),
      events_(events),
      flush_list_(flush_list),
      clock_(clock),
      lost_error_(errors::kMasterLostInFlight) {
  if (uv_timer_init(loop_, connect_timer_.allocate()) != 0) {
    connect_timer_.discardUninitialized();
    throw std::runtime_error("uv_timer_init failed");
  }
  connect_timer_->data = this;
}

BackendConnection::~BackendConnection() {
  if (flush_scheduled_) flush_list_.remove(this);
  if (attempt_ != nullptr) attempt_->cancel();
  for (auto& entry : in_flight_) {
    if (entry.request) deliverReply(*entry.request, lost_error_);
  }
}

void BackendConnection::connect() {
  if (state_ != State::Down) return;
  if (uv_tcp_init(loop_, tcp_.allocate()) != 0) {
    tcp_.discardUninitialized();
    events_.onConnectionDown(*this, {});
    return;
  }
  tcp_->data = this;
  uv_tcp_nodelay(tcp_.get(), 1);
  int error = 0;
  attempt_ = net::PendingConnect::start(
      tcp_.get(), address_.resolved,
      [this](int status) {
        attempt_ = nullptr;
        onConnected(status);
      },
      error);
  state_ = State::Connecting;
  if (attempt_ == nullptr) {
    fail(uv_strerror(error), lost_error_);
    return;
  }
  uv_timer_start(
      connect_timer_.get(),
      [](uv_timer_t* timer) {
        auto* self = static_cast<BackendConnection*>(timer->data);
        if (self != nullptr && self->state_ == State::Connecting) {
          self->fail("connect timed out (backend.connect_timeout_ms)", self->lost_error_);
        }
      },
      static_cast<uint64_t>(settings_.connect_timeout.count()), 0);
}

void BackendConnection::onConnected(int status) {
  uv_timer_stop(connect_timer_.get());
  if (status != 0) {
    fail(uv_strerror(status), lost_error_);
    return;
  }
  state_ = State::Ready;
  db_ = 0;
  framer_ = ReplyFramer();
  uv_read_start(
      tcp_.stream(),
      [](uv_handle_t* handle, size_t, uv_buf_t* buf) {
        auto* self = static_cast<BackendConnection*>(handle->data);
        if (self == nullptr) {
          *buf = uv_buf_init(nullptr, 0);
          return;
        }
        // Straight into the framer's buffer: replies are framed where they land.
        const std::span<char> room = self->framer_.prepare(kReadChunk);
        *buf = uv_buf_init(room.data(), static_cast<unsigned>(std::min<std::size_t>(
                                            room.size(), std::numeric_limits<unsigned>::max())));
      },
      [](uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
        if (stream->data != nullptr) {
          static_cast<BackendConnection*>(stream->data)->onRead(nread, buf);
        }
      });
  sendAuth();
  events_.onConnectionReady(*this);
}

void BackendConnection::sendAuth() {
  if (settings_.password.empty()) return;
  if (settings_.username.empty()) {
    appendCommand({"AUTH", settings_.password});
  } else {
    appendCommand({"AUTH", settings_.username, settings_.password});
  }
  in_flight_.push_back({nullptr});
  ++unflushed_;
}

void BackendConnection::send(RequestPtr request) {
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
    db_ = 0;
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
  if (batch_.empty() || state_ != State::Ready) return;
  auto batch = std::make_unique<WriteBatch>();
  batch->bytes = std::move(batch_);
  batch_.clear();
  uv_buf_t buf = uv_buf_init(batch->bytes.data(), static_cast<unsigned>(batch->bytes.size()));
  batch->request.data = batch.get();
  const int rc = uv_write(&batch->request, tcp_.stream(), &buf, 1, [](uv_write_t* request, int) {
    // Runs with UV_ECANCELED after a close: touch nothing but the batch.
    std::unique_ptr<WriteBatch> done(static_cast<WriteBatch*>(request->data));
  });
  if (rc != 0) {
    fail(uv_strerror(rc), lost_error_);
    return;
  }
  batch.release();
  // Stamped at the write, not at send(): time waiting for the end of the
  // loop turn is the proxy's, not the backend's.
  const std::uint64_t written_at = clock_.micros();
  for (auto entry = in_flight_.end() - static_cast<std::ptrdiff_t>(unflushed_);
       entry != in_flight_.end(); ++entry) {
    if (entry->request) entry->request->sent_at_us = written_at;
  }
  unflushed_ = 0;
}

void BackendConnection::onRead(ssize_t nread, const uv_buf_t* buf) {
  if (nread == 0) return;
  if (nread < 0) {
    fail(
        nread == UV_EOF ? "connection closed by the backend" : uv_strerror(static_cast<int>(nread)),
        lost_error_);
    return;
  }
  read_at_us_ = clock_.refresh();
  (void)buf;  // the bytes are already in the framer's buffer (prepare)
  framer_.commit(static_cast<std::size_t>(nread));
  while (state_ == State::Ready) {
    std::string_view frame;
    bool is_error = false;
    const auto result = framer_.next(frame, is_error);
    if (result == ReplyFramer::Result::NeedMore) break;
    if (result == ReplyFramer::Result::Corrupt) {
      // Only this link goes: its other requests' outcomes are unknown.
      logger()->warn("unparseable reply from a node, dropping the link address={} in_flight={}",
                     address_.toString(), in_flight_.size());
      fail("unparseable reply from the backend", lost_error_);
      return;
    }
    onReply(frame, is_error);
  }
}

void BackendConnection::onReply(std::string_view frame, bool is_error) {
  // Matched requests are only sent ahead of pass-through bytes, so while any
  // is written the frame is its reply.
  if (pass_through_ && in_flight_.size() == unflushed_) {
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
    if (is_error) {
      logger()->error("backend rejected a proxy command address={} reply=\"{}\"",
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
      logger()->warn("backend request timed out address={} in_flight={} timeout_ms={}",
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
  logger()->debug("backend connection down address={} reason=\"{}\" in_flight={}",
                  address_.toString(), reason, in_flight_.size());
  state_ = State::Down;
  if (attempt_ != nullptr) {
    attempt_->cancel();
    attempt_ = nullptr;
  }
  uv_timer_stop(connect_timer_.get());
  tcp_.reset();
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
