#include "net/tls_session.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <climits>
#include <stdexcept>

namespace rhp::net {

namespace {

bool isIpLiteral(const std::string& host) {
  unsigned char address[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), address) == 1 ||
         inet_pton(AF_INET6, host.c_str(), address) == 1;
}

}  // namespace

std::string_view tlsFailureName(TlsFailure failure) {
  switch (failure) {
    case TlsFailure::Certificate:
      return "certificate";
    case TlsFailure::PeerAlert:
      return "peer_alert";
    case TlsFailure::HandshakeTimeout:
      return "handshake_timeout";
    case TlsFailure::Plaintext:
      return "plaintext";
    case TlsFailure::Protocol:
      break;
  }
  return "protocol";
}

TlsFailure classifyTlsFailure(std::string_view reason) {
  if (reason.starts_with(kVerifyFailed)) return TlsFailure::Certificate;
  if (reason.starts_with(kNoHandshake)) return TlsFailure::HandshakeTimeout;
  if (reason.starts_with(kPlaintextOnTlsPort)) return TlsFailure::Plaintext;
  // A client that sent no certificate where one is required.
  if (reason.find("peer did not return a certificate") != std::string_view::npos) {
    return TlsFailure::Certificate;
  }
  // OpenSSL's texts for a received alert: "tlsv1 alert unknown ca",
  // "sslv3 alert handshake failure", "tlsv13 alert certificate required".
  if (reason.find(" alert ") != std::string_view::npos) return TlsFailure::PeerAlert;
  return TlsFailure::Protocol;
}

TlsSession::TlsSession(SSL_CTX* context) : ssl_(SSL_new(context)) {
  if (ssl_ == nullptr) throw std::runtime_error("SSL_new: " + takeTlsError("failed"));
  in_ = BIO_new(BIO_s_mem());
  out_ = BIO_new(BIO_s_mem());
  if (in_ == nullptr || out_ == nullptr) {
    BIO_free(in_);
    BIO_free(out_);
    throw std::runtime_error("BIO_new: out of memory");
  }
  SSL_set_bio(ssl_.get(), in_, out_);
}

TlsSession::TlsSession(const TlsServerContext& context) : TlsSession(context.get()) {
  SSL_set_accept_state(ssl_.get());
}

TlsSession::TlsSession(const TlsClientContext& context, const std::string& host)
    : TlsSession(context.get()) {
  SSL_set_connect_state(ssl_.get());
  const TlsClientSettings& settings = context.settings();
  const std::string& name = settings.server_name.empty() ? host : settings.server_name;
  const bool ip = isIpLiteral(name);
  // RFC 6066: SNI carries host names only, never an address.
  if (!ip) SSL_set_tlsext_host_name(ssl_.get(), name.c_str());
  if (settings.verify == TlsVerify::Full) {
    if (ip) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_.get()), name.c_str());
    } else {
      SSL_set_hostflags(ssl_.get(), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      SSL_set1_host(ssl_.get(), name.c_str());
    }
  }
}

void TlsSession::feed(std::span<const char> ciphertext) {
  // A memory BIO grows to take everything: the socket's read size bounds it.
  if (!ciphertext.empty()) BIO_write(in_, ciphertext.data(), static_cast<int>(ciphertext.size()));
}

TlsSession::Step TlsSession::handshake() {
  ERR_clear_error();
  const int result = SSL_do_handshake(ssl_.get());
  if (result == 1) return Step::Done;
  const int error = SSL_get_error(ssl_.get(), result);
  if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return Step::More;
  return failed(error);
}

TlsSession::Step TlsSession::failed(int error) {
  // With verify "none" OpenSSL still records what the chain check found:
  // it is not why a handshake failed then.
  const long verified = SSL_get_verify_mode(ssl_.get()) == SSL_VERIFY_NONE
                            ? X509_V_OK
                            : SSL_get_verify_result(ssl_.get());
  if (verified != X509_V_OK) {
    // "certificate has expired", "hostname mismatch", "self-signed certificate"...
    failure_ = std::string(kVerifyFailed) + ": " + X509_verify_cert_error_string(verified);
    ERR_clear_error();
  } else {
    failure_ = takeTlsError(error == SSL_ERROR_SYSCALL || error == SSL_ERROR_ZERO_RETURN
                                ? "the peer closed the connection during the handshake"
                                : "handshake failed");
  }
  return Step::Failed;
}

long TlsSession::read(std::span<char> room) {
  if (room.empty()) return 0;
  ERR_clear_error();
  const int got = SSL_read(ssl_.get(), room.data(),
                           static_cast<int>(std::min<std::size_t>(room.size(), INT_MAX)));
  if (got > 0) return got;
  const int error = SSL_get_error(ssl_.get(), got);
  if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return 0;
  failure_ = error == SSL_ERROR_ZERO_RETURN ? "" : takeTlsError("read failed");
  return -1;
}

bool TlsSession::write(std::string_view plaintext) {
  // A memory BIO never says "retry", so SSL_write takes each piece whole
  // (16 KiB records); pieces only because its length is an int.
  constexpr std::size_t kPiece = 1u << 30;
  while (!plaintext.empty()) {
    const std::size_t piece = std::min(plaintext.size(), kPiece);
    ERR_clear_error();
    if (SSL_write(ssl_.get(), plaintext.data(), static_cast<int>(piece)) !=
        static_cast<int>(piece)) {
      failure_ = takeTlsError("write failed");
      return false;
    }
    plaintext.remove_prefix(piece);
  }
  return true;
}

std::string TlsSession::takeOutput() {
  std::string bytes(BIO_ctrl_pending(out_), '\0');
  if (!bytes.empty()) BIO_read(out_, bytes.data(), static_cast<int>(bytes.size()));
  return bytes;
}

void TlsSession::closeNotify() {
  ERR_clear_error();
  SSL_shutdown(ssl_.get());  // 0: sent, the peer's answer is not waited for
  ERR_clear_error();
}

bool TlsSession::hasOutput() const {
  return BIO_ctrl_pending(out_) > 0;
}

}  // namespace rhp::net
