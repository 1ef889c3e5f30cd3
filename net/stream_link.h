#pragma once

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "net/tcp_connect.h"
#include "net/tls_context.h"
#include "net/tls_session.h"
#include "net/uv_handle.h"

namespace rhp::net {

/* One outgoing TCP connection, seen by its owner as bytes in and bytes out.
 * It looks the name up (asynchronously, net/tcp_connect.h), connects within
 * a timeout, reads into room the owner supplies, and writes what the owner
 * hands it. Both the control-plane links (health/redis_link) and the data
 * path (proxy/backend_connection) use it.
 *
 * The owner never sees the socket, so TLS is only a setting here: with a
 * TLS context, a net::TlsSession (OpenSSL on memory buffers) sits between
 * the socket and sendBytes()/onBytesIn(), the handshake counts as part of
 * the connect (and of its timeout), and the owner is unchanged.
 *
 * Loop thread only. Destroying the link (or close()) while the lookup, the
 * connect or a write is outstanding is safe: libuv keeps those requests, and
 * their callbacks reach no one. No owner callback runs after close(). */
class StreamLink {
 public:
  class Owner {
   public:
    virtual ~Owner() = default;
    /* Where the next bytes in may land; asked before each read. */
    virtual std::span<char> readRoom() = 0;
    /* `bytes` (at the start of the last readRoom()) arrived. */
    virtual void onBytesIn(std::span<const char> bytes) = 0;
    /* Connected; reading has started. */
    virtual void onLinkUp() = 0;
    /* The lookup or connect failed, the connect timed out (UV_ETIMEDOUT),
     * the peer closed (UV_EOF) or a read failed. The link is closed already
     * and may be connected again from here. */
    virtual void onLinkDown(int status) = 0;
  };

  /* Throws std::runtime_error if the connect timer cannot be made. */
  StreamLink(uv_loop_t* loop, Owner& owner);
  ~StreamLink() {
    *alive_ = false;
    close();
  }
  StreamLink(const StreamLink&) = delete;
  StreamLink& operator=(const StreamLink&) = delete;

  /* Starts connecting to host:port; onLinkUp() or onLinkDown() follows,
   * the latter with UV_ETIMEDOUT if `timeout` (lookup included) passes
   * first, or UV_EPROTO when TLS failed, the handshake's timeout included
   * (describe() says why). With `tls`, the connection is TLS, checked against `host` as
   * the context's settings say. Returns a libuv error, and calls nothing,
   * when it cannot start. */
  int connect(const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout,
              std::shared_ptr<const TlsClientContext> tls = nullptr);

  /* Queues `bytes` for the socket. Returns a libuv error when the link is
   * not connected or the write is refused; nothing is called then. */
  int sendBytes(std::string bytes);

  /* Drops the connection (or the attempt) without calling the owner. */
  void close();

  /* Under TLS 1.3 our side of the handshake is done before the server has
   * checked our certificate: a server that refuses it (tls-auth-clients,
   * an untrusted CA) says so one round trip after onLinkUp(). An owner that
   * trusts a TLS link only once the server has answered calls this before
   * connect(): the connect timeout then runs on past onLinkUp() until
   * confirmed(), and a server that answers nothing within it takes the
   * link down with UV_ETIMEDOUT, as a silent connect would. The same holds
   * for plain TCP (an owner that waits for its login's answer). */
  void holdTimeoutUntilConfirmed() { hold_timeout_ = true; }
  /* The server answered: the connect timeout stops. */
  void confirmed();
  /* The connection (or the attempt) is TLS. */
  bool secured() const { return tls_ != nullptr; }

  bool connected() const { return connected_; }
  /* Words for an onLinkDown() status, with the TLS reason for UV_EPROTO
   * ("certificate verify failed: hostname mismatch"). */
  std::string describe(int status) const;
  /* The kind of TLS failure that took the link down last; nothing when it
   * went down for another reason. */
  std::optional<TlsFailure> tlsFailure() const {
    if (tls_failure_.empty()) return std::nullopt;
    return classifyTlsFailure(tls_failure_);
  }

 private:
  void onConnected(int status);
  void startReading();
  void onConnectTimeout();
  void onRead(ssize_t nread);
  void up();
  /* TLS: ciphertext arrived; advances the handshake or hands plaintext on. */
  void onCiphertext(std::size_t length);
  void stepHandshake();
  void deliverPlaintext();
  /* TLS: sends what the session has for the socket. */
  int flushTls();
  int writeToSocket(std::string bytes);
  void tlsFailed();
  /* Closes, then tells the owner, which may connect again at once. */
  void down(int status);

  uv_loop_t* loop_;
  Owner& owner_;
  UvHandle<uv_tcp_t> tcp_;
  UvHandle<uv_timer_t> connect_timer_;
  PendingConnect* attempt_ = nullptr;  // owned by libuv until its callback
  bool connected_ = false;
  std::string host_;
  std::shared_ptr<const TlsClientContext> tls_context_;
  std::unique_ptr<TlsSession> tls_;
  std::vector<char> ciphertext_;  // TLS: the socket reads here, not into the owner's room
  std::string tls_failure_;       // why the last TLS connection failed
  bool hold_timeout_ = false;     // see holdTimeoutUntilConfirmed()
  /* Owner callbacks may close, reconnect or destroy this link; a loop
   * that calls the owner more than once checks these after each call. */
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::uint64_t generation_ = 0;  // one per connection
};

}  // namespace rhp::net
