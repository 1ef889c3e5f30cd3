#include "net/stream_link.h"

#include <algorithm>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string_view>

namespace rhp::net {

namespace {

struct WriteBatch {
  uv_write_t request{};
  std::string bytes;
};

StreamLink* ownerOf(void* data) {
  return static_cast<StreamLink*>(data);
}

/* TLS reads land here first, as many bytes as a backend's plain read
 * (16 KiB; OpenSSL keeps a partial record). Held only while connected: a
 * subscriber's dedicated connection idles for hours, and 10,000 of them
 * at 64 KiB each would be 640 MB. */
constexpr std::size_t kCiphertextChunk = 16 * 1024;

/* Plaintext is encrypted and handed to the socket this much at a time: a
 * memory BIO holds at most about 1.5 GiB, and a batch of 512 MB values
 * would otherwise sit there twice (plaintext and ciphertext) at once. */
constexpr std::size_t kEncryptPiece = 1024 * 1024;

}  // namespace

StreamLink::StreamLink(uv_loop_t* loop, Owner& owner) : loop_(loop), owner_(owner) {
  if (uv_timer_init(loop_, connect_timer_.allocate()) != 0) {
    connect_timer_.discardUninitialized();
    throw std::runtime_error("uv_timer_init failed");
  }
  connect_timer_->data = this;
}

int StreamLink::connect(const std::string& host, std::uint16_t port,
                        std::chrono::milliseconds timeout,
                        std::shared_ptr<const TlsClientContext> tls) {
  close();
  host_ = host;
  tls_context_ = std::move(tls);
  tls_failure_.clear();
  if (const int rc = uv_tcp_init(loop_, tcp_.allocate()); rc != 0) {
    tcp_.discardUninitialized();
    return rc;
  }
  tcp_->data = this;
  uv_tcp_nodelay(tcp_.get(), 1);
  int error = 0;
  attempt_ = PendingConnect::start(
      tcp_.get(), host, port,
      [this](int status) {
        attempt_ = nullptr;
        onConnected(status);
      },
      error);
  if (attempt_ == nullptr) {
    tcp_.reset();
    return error;
  }
  uv_timer_start(
      connect_timer_.get(),
      [](uv_timer_t* timer) {
        if (timer->data != nullptr) ownerOf(timer->data)->onConnectTimeout();
      },
      static_cast<std::uint64_t>(timeout.count()), 0);
  return 0;
}

void StreamLink::onConnected(int status) {
  if (status != 0) {
    uv_timer_stop(connect_timer_.get());
    down(status);
    return;
  }
  if (tls_context_ == nullptr) {
    if (!hold_timeout_) uv_timer_stop(connect_timer_.get());
    startReading();
    up();
    return;
  }
  // The connect timer runs on: the handshake is part of connecting.
  try {
    tls_ = std::make_unique<TlsSession>(*tls_context_, host_);
  } catch (const std::exception& error) {
    tls_failure_ = error.what();
    uv_timer_stop(connect_timer_.get());
    down(UV_EPROTO);
    return;
  }
  ciphertext_.resize(kCiphertextChunk);
  startReading();
  stepHandshake();  // the ClientHello
}

void StreamLink::startReading() {
  uv_read_start(
      tcp_.stream(),
      [](uv_handle_t* handle, size_t, uv_buf_t* buf) {
        if (handle->data == nullptr) {
          *buf = uv_buf_init(nullptr, 0);
          return;
        }
        StreamLink* link = ownerOf(handle->data);
        const std::span<char> room =
            link->tls_ != nullptr ? std::span<char>(link->ciphertext_) : link->owner_.readRoom();
        *buf = uv_buf_init(room.data(), static_cast<unsigned>(std::min<std::size_t>(
                                            room.size(), std::numeric_limits<unsigned>::max())));
      },
      [](uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
        if (stream->data == nullptr || nread == 0) return;
        StreamLink* link = ownerOf(stream->data);
        if (nread < 0) {
          link->onRead(nread);
        } else if (link->tls_ != nullptr) {
          link->onCiphertext(static_cast<std::size_t>(nread));
        } else {
          link->owner_.onBytesIn({buf->base, static_cast<std::size_t>(nread)});
        }
      });
}

void StreamLink::up() {
  connected_ = true;
  owner_.onLinkUp();
}

void StreamLink::onConnectTimeout() {
  if (attempt_ != nullptr) {
    down(UV_ETIMEDOUT);
  } else if (tls_ != nullptr && !connected_) {
    // Connected, but no handshake: a plain-TCP redis-server reads a
    // ClientHello as an inline command still waiting for its newline, and
    // answers nothing. A TLS failure, so that it is logged as one.
    tls_failure_ = kNoHandshake;
    down(UV_EPROTO);
  } else if (connected_) {
    down(UV_ETIMEDOUT);  // up, but not confirmed (holdTimeoutUntilConfirmed)
  }
}

void StreamLink::confirmed() {
  if (connected_) uv_timer_stop(connect_timer_.get());
}

void StreamLink::onRead(ssize_t nread) {
  down(static_cast<int>(nread));
}

void StreamLink::onCiphertext(std::size_t length) {
  tls_->feed({ciphertext_.data(), length});
  if (connected_) {
    deliverPlaintext();
  } else {
    stepHandshake();
  }
}

void StreamLink::stepHandshake() {
  switch (tls_->handshake()) {
    case TlsSession::Step::Failed:
      tlsFailed();
      return;
    case TlsSession::Step::More:
      if (const int rc = flushTls(); rc != 0) down(rc);
      return;
    case TlsSession::Step::Done:
      break;
  }
  if (!hold_timeout_) uv_timer_stop(connect_timer_.get());
  if (const int rc = flushTls(); rc != 0) {
    down(rc);
    return;
  }
  const auto alive = alive_;
  const std::uint64_t generation = generation_;
  up();
  // Records that came with the server's last handshake flight.
  if (*alive && generation == generation_) deliverPlaintext();
}

void StreamLink::deliverPlaintext() {
  const auto alive = alive_;
  const std::uint64_t generation = generation_;
  for (;;) {
    const std::span<char> room = owner_.readRoom();
    const long got = tls_->read(room);
    if (got < 0) {
      if (tls_->failure().empty()) {
        down(UV_EOF);  // close_notify: the server closed cleanly
      } else {
        tlsFailed();
      }
      return;
    }
    if (got == 0) break;
    owner_.onBytesIn(room.first(static_cast<std::size_t>(got)));
    if (!*alive || generation != generation_) return;
  }
  // Reading can answer the server (a TLS 1.3 key update).
  if (const int rc = flushTls(); rc != 0) down(rc);
}

void StreamLink::tlsFailed() {
  tls_failure_ = tls_->failure();
  (void)flushTls();  // the alert, so the server logs why too
  down(UV_EPROTO);
}

void StreamLink::down(int status) {
  close();
  owner_.onLinkDown(status);
}

int StreamLink::sendBytes(std::string bytes) {
  if (!connected_) return UV_ENOTCONN;
  if (tls_ == nullptr) return writeToSocket(std::move(bytes));
  for (std::string_view rest = bytes; !rest.empty();) {
    const std::string_view piece = rest.substr(0, kEncryptPiece);
    rest.remove_prefix(piece.size());
    if (!tls_->write(piece)) {
      tls_failure_ = tls_->failure();
      return UV_EPROTO;
    }
    if (const int rc = flushTls(); rc != 0) return rc;
  }
  return 0;
}

int StreamLink::flushTls() {
  if (tls_ == nullptr || !tls_->hasOutput()) return 0;
  return writeToSocket(tls_->takeOutput());
}

int StreamLink::writeToSocket(std::string bytes) {
  auto batch = std::make_unique<WriteBatch>();
  batch->bytes = std::move(bytes);
  uv_buf_t buf = uv_buf_init(batch->bytes.data(), static_cast<unsigned>(batch->bytes.size()));
  batch->request.data = batch.get();
  const int rc = uv_write(&batch->request, tcp_.stream(), &buf, 1, [](uv_write_t* request, int) {
    // Runs with UV_ECANCELED after a close: touch nothing but the batch.
    std::unique_ptr<WriteBatch> done(static_cast<WriteBatch*>(request->data));
  });
  if (rc == 0) batch.release();
  return rc;
}

std::string StreamLink::describe(int status) const {
  if (status == UV_EPROTO && !tls_failure_.empty()) return "TLS: " + tls_failure_;
  return uv_strerror(status);
}

void StreamLink::close() {
  if (attempt_ != nullptr) {
    attempt_->cancel();  // before the handle closes: see PendingConnect::cancel
    attempt_ = nullptr;
  }
  if (connect_timer_) uv_timer_stop(connect_timer_.get());
  tcp_.reset();
  tls_.reset();
  ciphertext_ = {};
  connected_ = false;
  ++generation_;
}

}  // namespace rhp::net
