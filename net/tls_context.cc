#include "net/tls_context.h"

#include <openssl/err.h>

#include <stdexcept>

#include "net/tls_loading.h"

namespace rhp::net {

std::string takeTlsError(const std::string& otherwise) {
  // The queue runs from the cause to its consequences: a bad key file is
  // "no start line" (PEM) and then "PEM lib" (SSL). Each reason once.
  std::string reasons;
  while (const unsigned long code = ERR_get_error()) {
    const char* reason = ERR_reason_error_string(code);
    char text[256];
    if (reason == nullptr) {
      ERR_error_string_n(code, text, sizeof(text));
      reason = text;
    }
    if (reasons.find(reason) == std::string::npos) {
      reasons += (reasons.empty() ? "" : ", ");
      reasons += reason;
    }
  }
  return reasons.empty() ? otherwise : reasons;
}

TlsClientContext::TlsClientContext(const TlsClientSettings& settings)
    : settings_(settings), context_(SSL_CTX_new(TLS_client_method())) {
  ERR_clear_error();
  checkTls(context_ != nullptr, "SSL_CTX_new");
  SSL_CTX* context = context_.get();
  setTlsProtocols(context, settings_.protocols);
  // No compression (CRIME) and no renegotiation; idle connections give
  // their 34 KB of record buffers back (one per node and worker is kept).
  SSL_CTX_set_options(context, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_mode(context, SSL_MODE_RELEASE_BUFFERS);
  setTlsCiphers(context, settings_.ciphers, settings_.ciphersuites);
  loadTlsCas(context, settings_.ca_cert_file, settings_.ca_cert_dir);
  SSL_CTX_set_verify(
      context, settings_.verify == TlsVerify::None ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, nullptr);
  if (!settings_.cert_file.empty()) {
    loadTlsCertificate(context, settings_.cert_file, settings_.key_file, settings_.key_file_pass);
  } else if (!settings_.key_file.empty()) {
    throw std::runtime_error("tls key file " + settings_.key_file + " given without a cert file");
  }
}

}  // namespace rhp::net
