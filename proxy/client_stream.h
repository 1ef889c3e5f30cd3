#pragma once

#include <uv.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "net/tls_server_context.h"
#include "net/tls_session.h"
#include "net/uv_handle.h"

namespace rhp::proxy {

/* A client's connection as its session sees it: bytes in, bytes out, the
 * end. On the plain port the bytes are the socket's, read into the worker's
 * read buffer and parsed there, and replies are written with one
 * uv_try_write when the socket takes them (client_writes.h). On the TLS
 * port (proxy.tls_listen) a net::TlsSession sits between: the handshake
 * comes first and the session sees no byte before it is done; ciphertext is
 * read into the same buffer, handed to OpenSSL (one copy) and the plaintext
 * read back into it, so the session parses in place either way.
 *
 * Loop thread only. The stream lives inside its owner and never moves: the
 * socket's data points at it. No owner callback runs after close() or
 * shutdownAfterWrites(). */
class ClientStream {
 public:
  class Owner {
   public:
    virtual ~Owner() = default;
    /* Bytes of requests; they may end mid-request. */
    virtual void onStreamBytes(std::string_view bytes) = 0;
    /* The client closed, a read or write failed, or TLS failed (after
     * onTlsFailure). The stream is closed already. */
    virtual void onStreamEnd() = 0;
    /* A write queued earlier went out. */
    virtual void onStreamWritten() = 0;
    /* The TLS handshake failed, or a client spoke plain RESP to the TLS
     * port; `peer` is its address. */
    virtual void onTlsFailure(net::TlsFailure failure, std::string_view reason,
                              std::string_view peer) = 0;
  };

  /* With `tls`, the connection is a client's on the TLS port. Throws
   * std::runtime_error when OpenSSL cannot make a session. */
  ClientStream(Owner& owner, net::UvHandle<uv_tcp_t> tcp, std::vector<char>& read_buffer,
               const std::shared_ptr<const net::TlsServerContext>& tls);
  ~ClientStream() { close(); }
  ClientStream(const ClientStream&) = delete;
  ClientStream& operator=(const ClientStream&) = delete;

  void startReading();
  void stopReading();
  /* Sends `bytes` and empties it. Returns libuv's error when the write
   * could not even be queued (the client is gone; nothing is called). */
  int write(std::string& bytes);
  /* Bytes queued for the socket, not yet taken by the kernel. */
  std::size_t queuedBytes() const;
  /* Closes once the writes queued are out (TLS: after close_notify). */
  void shutdownAfterWrites();
  void close();

  bool open() const { return static_cast<bool>(tcp_); }
  /* TLS: the client's address, for a log line. */
  const std::string& peer() const { return peer_; }
  /* On the TLS port, until the handshake is done. */
  bool handshaking() const { return tls_ != nullptr && !established_; }

 private:
  void onRead(ssize_t nread, const uv_buf_t* buf);
  /* A queued write went out, or failed. */
  static void onWritten(uv_write_t* request, int status);
  void onCiphertext(std::string_view ciphertext);
  /* Hands the plaintext OpenSSL has to the owner; false if the stream
   * ended meanwhile. */
  bool deliverPlaintext();
  /* Sends what the TLS session has for the socket (handshake, alerts). */
  int flushTls();
  /* `reason` is a copy: the TLS session it may come from is gone before the
   * owner hears it. */
  void tlsFailed(net::TlsFailure failure, std::string reason);
  void end();
  std::string describePeer() const;

  Owner& owner_;
  net::UvHandle<uv_tcp_t> tcp_;
  std::vector<char>& read_buffer_;  // the worker's, shared by its clients
  std::unique_ptr<net::TlsSession> tls_;
  bool established_ = false;  // TLS: the handshake is done
  bool first_bytes_ = true;   // TLS: nothing read yet
  std::string peer_;          // TLS: "10.0.0.7:51234", taken at the accept
};

}  // namespace rhp::proxy
