#include "net/tls_context.h"

#include <openssl/err.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstring>
#include <sstream>
#include <stdexcept>

namespace rhp::net {

namespace {

/* The key file's password, from the settings; never OpenSSL's default of
 * asking on the terminal, which would block the loading thread. */
int keyPassword(char* buffer, int size, int /*writing*/, void* user) {
  const auto* password = static_cast<const std::string*>(user);
  if (password == nullptr || password->empty() || size <= 0) return 0;
  const auto length = std::min(password->size(), static_cast<std::size_t>(size));
  std::memcpy(buffer, password->data(), length);
  return static_cast<int>(length);
}

int protocolVersion(const std::string& word) {
  if (word == "TLSv1.2") return TLS1_2_VERSION;
  if (word == "TLSv1.3") return TLS1_3_VERSION;
  throw std::runtime_error("tls protocols: '" + word +
                           "' is not one of TLSv1.2, TLSv1.3 (older versions are refused)");
}

void setProtocols(SSL_CTX* context, const std::string& protocols) {
  int lowest = 0;
  int highest = 0;
  std::istringstream words(protocols);
  for (std::string word; words >> word;) {
    const int version = protocolVersion(word);
    lowest = lowest == 0 ? version : std::min(lowest, version);
    highest = std::max(highest, version);
  }
  if (lowest == 0) throw std::runtime_error("tls protocols: none given");
  SSL_CTX_set_min_proto_version(context, lowest);
  SSL_CTX_set_max_proto_version(context, highest);
}

void check(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error(what + ": " + takeTlsError("failed"));
}

/* Refused at load time: otherwise every server would refuse it later, one
 * handshake at a time, and the log would only say "bad certificate". */
void checkValidity(SSL_CTX* context, const std::string& file) {
  X509* certificate = SSL_CTX_get0_certificate(context);
  if (certificate == nullptr) return;
  if (X509_cmp_current_time(X509_get0_notAfter(certificate)) < 0) {
    throw std::runtime_error(file + ": the certificate has expired");
  }
  if (X509_cmp_current_time(X509_get0_notBefore(certificate)) > 0) {
    throw std::runtime_error(file + ": the certificate is not valid yet");
  }
}

}  // namespace

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

std::shared_ptr<const TlsClientContext> reloadTlsContext(
    const TlsClientSettings& settings, std::shared_ptr<const TlsClientContext> current,
    std::string& error) {
  error.clear();
  if (!settings.enabled) return nullptr;
  try {
    return std::make_shared<const TlsClientContext>(settings);
  } catch (const std::exception& failure) {
    if (current == nullptr) throw;
    error = failure.what();
    return current;
  }
}

TlsClientContext::TlsClientContext(const TlsClientSettings& settings)
    : settings_(settings), context_(SSL_CTX_new(TLS_client_method())) {
  ERR_clear_error();
  check(context_ != nullptr, "SSL_CTX_new");
  SSL_CTX* context = context_.get();
  setProtocols(context, settings_.protocols);
  // No compression (CRIME) and no renegotiation; idle connections give
  // their 34 KB of record buffers back (one per node and worker is kept).
  SSL_CTX_set_options(context, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_mode(context, SSL_MODE_RELEASE_BUFFERS);
  if (!settings_.ciphers.empty()) {
    check(SSL_CTX_set_cipher_list(context, settings_.ciphers.c_str()) == 1,
          "tls ciphers '" + settings_.ciphers + "'");
  }
  if (!settings_.ciphersuites.empty()) {
    check(SSL_CTX_set_ciphersuites(context, settings_.ciphersuites.c_str()) == 1,
          "tls ciphersuites '" + settings_.ciphersuites + "'");
  }
  if (settings_.ca_cert_file.empty() && settings_.ca_cert_dir.empty()) {
    check(SSL_CTX_set_default_verify_paths(context) == 1, "the system's CA certificates");
  } else {
    const char* file = settings_.ca_cert_file.empty() ? nullptr : settings_.ca_cert_file.c_str();
    const char* dir = settings_.ca_cert_dir.empty() ? nullptr : settings_.ca_cert_dir.c_str();
    check(SSL_CTX_load_verify_locations(context, file, dir) == 1,
          file != nullptr ? settings_.ca_cert_file : settings_.ca_cert_dir);
  }
  SSL_CTX_set_verify(
      context, settings_.verify == TlsVerify::None ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, nullptr);
  if (!settings_.cert_file.empty()) {
    SSL_CTX_set_default_passwd_cb(context, keyPassword);
    SSL_CTX_set_default_passwd_cb_userdata(context, &settings_.key_file_pass);
    check(SSL_CTX_use_certificate_chain_file(context, settings_.cert_file.c_str()) == 1,
          settings_.cert_file);
    checkValidity(context, settings_.cert_file);
    const std::string& key = settings_.key_file.empty() ? settings_.cert_file : settings_.key_file;
    check(SSL_CTX_use_PrivateKey_file(context, key.c_str(), SSL_FILETYPE_PEM) == 1, key);
    check(SSL_CTX_check_private_key(context) == 1, key + " does not match " + settings_.cert_file);
    // Read only while loading; nothing may point into this object later.
    SSL_CTX_set_default_passwd_cb_userdata(context, nullptr);
  } else if (!settings_.key_file.empty()) {
    throw std::runtime_error("tls key file " + settings_.key_file + " given without a cert file");
  }
}

}  // namespace rhp::net
