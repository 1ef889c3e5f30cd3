#include "proxy/client_stream.h"

#include <array>

#include "net/socket_address.h"
#include "proxy/client_writes.h"
#include "router/errors.h"

namespace rhp::proxy {

namespace {

/* Every TLS connection starts with a handshake record (content type 22);
 * RESP starts with '*' or a letter. */
constexpr char kTlsHandshakeRecord = 0x16;

}  // namespace

ClientStream::ClientStream(Owner& owner, net::UvHandle<uv_tcp_t> tcp,
                           std::vector<char>& read_buffer,
                           const std::shared_ptr<const net::TlsServerContext>& tls)
    : owner_(owner), tcp_(std::move(tcp)), read_buffer_(read_buffer) {
  tcp_->data = this;
  uv_tcp_nodelay(tcp_.get(), 1);
  if (tls) {
    tls_ = std::make_unique<net::TlsSession>(*tls);
    // Now: a client that gives up on a handshake often resets at once, and
    // getpeername() then fails (ENOTCONN).
    peer_ = describePeer();
  }
}

void ClientStream::startReading() {
  if (!tcp_) return;
  uv_read_start(
      tcp_.stream(),
      [](uv_handle_t* handle, size_t, uv_buf_t* buf) {
        auto* self = static_cast<ClientStream*>(handle->data);
        if (self == nullptr) {
          *buf = uv_buf_init(nullptr, 0);
          return;
        }
        auto& scratch = self->read_buffer_;
        *buf = uv_buf_init(scratch.data(), static_cast<unsigned>(scratch.size()));
      },
      [](uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
        if (stream->data != nullptr) static_cast<ClientStream*>(stream->data)->onRead(nread, buf);
      });
}

void ClientStream::stopReading() {
  if (tcp_) uv_read_stop(tcp_.stream());
}

void ClientStream::onRead(ssize_t nread, const uv_buf_t* buf) {
  if (nread == 0) return;
  if (nread < 0) {
    if (handshaking() && !first_bytes_) {
      tlsFailed(net::TlsFailure::Protocol, "the client closed the connection during the handshake");
    } else {
      end();
    }
    return;
  }
  const std::string_view bytes(buf->base, static_cast<std::size_t>(nread));
  if (tls_ == nullptr) {
    owner_.onStreamBytes(bytes);
  } else {
    onCiphertext(bytes);
  }
}

void ClientStream::onCiphertext(std::string_view ciphertext) {
  if (first_bytes_) {
    first_bytes_ = false;
    if (ciphertext.front() != kTlsHandshakeRecord) {
      std::string reply(errors::kTlsPortPlaintext);
      writeToClient(tcp_.stream(), reply, [](uv_write_t*, int) {});
      tlsFailed(net::TlsFailure::Plaintext, std::string(net::kPlaintextOnTlsPort));
      return;
    }
  }
  tls_->feed({ciphertext.data(), ciphertext.size()});
  if (!established_) {
    const auto step = tls_->handshake();
    if (step == net::TlsSession::Step::Failed) {
      tlsFailed(net::classifyTlsFailure(tls_->failure()), tls_->failure());
      return;
    }
    if (flushTls() != 0) return end();
    if (step == net::TlsSession::Step::More) return;
    established_ = true;
  }
  if (!deliverPlaintext()) return;
  if (flushTls() != 0) end();  // session tickets, key updates
}

bool ClientStream::deliverPlaintext() {
  // The ciphertext was copied into OpenSSL, so the read buffer is free for
  // the plaintext; one socket read's worth is decrypted and handed on even
  // if the owner stops reading meanwhile (it keeps what it does not parse,
  // at most the buffer's size, as on the plain port).
  while (tls_ != nullptr) {
    const long got = tls_->read({read_buffer_.data(), read_buffer_.size()});
    if (got == 0) return true;
    if (got < 0) {
      if (tls_->failure().empty()) {
        end();  // close_notify: the client closed cleanly
      } else {
        tlsFailed(net::TlsFailure::Protocol, tls_->failure());
      }
      return false;
    }
    owner_.onStreamBytes({read_buffer_.data(), static_cast<std::size_t>(got)});
  }
  return false;  // the owner closed the stream
}

void ClientStream::onWritten(uv_write_t* request, int status) {
  auto* self = static_cast<ClientStream*>(request->handle->data);
  if (self == nullptr) return;
  if (status == 0) {
    self->owner_.onStreamWritten();
  } else {
    self->end();  // a reset or a broken pipe: the client is gone
  }
}

int ClientStream::write(std::string& bytes) {
  if (!tcp_) return UV_EPIPE;
  if (tls_ == nullptr) {
    return writeToClient(tcp_.stream(), bytes, onWritten);
  }
  if (!established_) return 0;  // nothing is owed before the first request
  if (!tls_->write(bytes)) return UV_EPROTO;
  bytes.clear();
  if (bytes.capacity() > kKeptBufferCapacity) bytes = std::string();
  return flushTls();
}

int ClientStream::flushTls() {
  if (!tls_->hasOutput()) return 0;
  std::string ciphertext = tls_->takeOutput();
  return writeToClient(tcp_.stream(), ciphertext, onWritten);
}

std::size_t ClientStream::queuedBytes() const {
  return tcp_ ? uv_stream_get_write_queue_size(tcp_.stream()) : 0;
}

void ClientStream::shutdownAfterWrites() {
  if (!tcp_) return;
  if (tls_ != nullptr && established_) {
    tls_->closeNotify();
    flushTls();
  }
  tls_.reset();
  proxy::shutdownAfterWrites(std::move(tcp_));
}

void ClientStream::close() {
  tcp_.reset();
  tls_.reset();
}

void ClientStream::end() {
  close();
  owner_.onStreamEnd();
}

void ClientStream::tlsFailed(net::TlsFailure failure, std::string reason) {
  if (failure != net::TlsFailure::Plaintext) flushTls();  // the alert that says why
  shutdownAfterWrites();
  owner_.onTlsFailure(failure, reason, peer_);
  owner_.onStreamEnd();
}

std::string ClientStream::describePeer() const {
  sockaddr_storage address{};
  int length = sizeof(address);
  if (!tcp_ ||
      uv_tcp_getpeername(tcp_.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return "?";
  }
  return net::describeAddress(address);
}

}  // namespace rhp::proxy
