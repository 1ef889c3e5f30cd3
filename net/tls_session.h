#pragma once

#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "net/tls_context.h"
#include "net/tls_server_context.h"

namespace rhp::net {

/* Why a TLS connection failed, as a bounded metric label. */
enum class TlsFailure : std::uint8_t {
  Certificate,       // the server's certificate did not verify (CA, name, dates)
  PeerAlert,         // the server refused: an alert (our certificate, protocol, cipher)
  HandshakeTimeout,  // no handshake within the connect timeout: a plain-TCP port?
  Protocol,          // anything else (not TLS at all, a broken record, ...)
  Plaintext,         // a client sent plain RESP to the proxy's TLS port
};
inline constexpr std::size_t kTlsFailures = 5;
/* "certificate", "peer_alert", "handshake_timeout", "protocol", "plaintext". */
std::string_view tlsFailureName(TlsFailure failure);
inline constexpr std::string_view kVerifyFailed = "certificate verify failed";
inline constexpr std::string_view kNoHandshake =
    "no TLS handshake within the connect timeout (is the port plain TCP?)";
inline constexpr std::string_view kPlaintextOnTlsPort =
    "a plaintext request on the TLS port (the client does not speak TLS)";
/* The kind of a failure() text (StreamLink::describe without "TLS: "). */
TlsFailure classifyTlsFailure(std::string_view reason);

/* One TLS connection's state (outgoing, or a client's on the proxy's TLS
 * port), between the socket and the bytes its
 * owner reads and writes. OpenSSL reads and writes two memory buffers, never
 * the socket, so nothing here blocks or calls back: ciphertext from the
 * socket goes in with feed(), ciphertext for the socket comes out of
 * takeOutput(), and the owner moves both. Loop thread only. */
class TlsSession {
 public:
  enum class Step { Done, More, Failed };

  /* For a connection to `host` (a name or an IP literal), checked as the
   * context's settings say (TlsClientSettings::verify, server_name). */
  TlsSession(const TlsClientContext& context, const std::string& host);
  /* For a client's connection to the proxy, its certificate checked as
   * TlsServerSettings::auth_clients says. */
  explicit TlsSession(const TlsServerContext& context);

  /* Ciphertext that arrived from the socket. */
  void feed(std::span<const char> ciphertext);
  /* Advances the handshake with what was fed; takeOutput() has what to send. */
  Step handshake();
  /* Plaintext into `room`: its length, 0 when nothing more is complete yet,
   * -1 when the peer closed the session or it failed (failure() says why;
   * empty for a clean close). */
  long read(std::span<char> room);
  /* Encrypts `plaintext`; takeOutput() then has it. It never waits, but the
   * memory buffer holds at most about 1.5 GiB: the caller hands over
   * pieces (StreamLink: 1 MiB). False when the session has failed. */
  bool write(std::string_view plaintext);
  /* Ciphertext waiting for the socket (handshake records, alerts, data). */
  std::string takeOutput();
  bool hasOutput() const;
  /* Queues close_notify (takeOutput() has it), so that the peer tells our
   * close from a truncation. */
  void closeNotify();

  const std::string& failure() const { return failure_; }

 private:
  struct Free {
    void operator()(SSL* ssl) const { SSL_free(ssl); }
  };
  explicit TlsSession(SSL_CTX* context);
  Step failed(int result);

  std::unique_ptr<SSL, Free> ssl_;
  BIO* in_ = nullptr;   // owned by ssl_
  BIO* out_ = nullptr;  // owned by ssl_
  std::string failure_;
};

}  // namespace rhp::net
