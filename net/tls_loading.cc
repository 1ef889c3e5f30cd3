#include "net/tls_loading.h"

#include <openssl/err.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include "net/tls_context.h"

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

void checkTls(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error(what + ": " + takeTlsError("failed"));
}

void setTlsProtocols(SSL_CTX* context, const std::string& protocols) {
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

void setTlsCiphers(SSL_CTX* context, const std::string& ciphers, const std::string& ciphersuites) {
  if (!ciphers.empty()) {
    checkTls(SSL_CTX_set_cipher_list(context, ciphers.c_str()) == 1,
             "tls ciphers '" + ciphers + "'");
  }
  if (!ciphersuites.empty()) {
    checkTls(SSL_CTX_set_ciphersuites(context, ciphersuites.c_str()) == 1,
             "tls ciphersuites '" + ciphersuites + "'");
  }
}

void loadTlsCas(SSL_CTX* context, const std::string& ca_file, const std::string& ca_dir) {
  if (ca_file.empty() && ca_dir.empty()) {
    checkTls(SSL_CTX_set_default_verify_paths(context) == 1, "the system's CA certificates");
    return;
  }
  const char* file = ca_file.empty() ? nullptr : ca_file.c_str();
  const char* dir = ca_dir.empty() ? nullptr : ca_dir.c_str();
  checkTls(SSL_CTX_load_verify_locations(context, file, dir) == 1,
           file != nullptr ? ca_file : ca_dir);
}

void loadTlsCertificate(SSL_CTX* context, const std::string& cert_file, const std::string& key_file,
                        const std::string& key_password) {
  SSL_CTX_set_default_passwd_cb(context, keyPassword);
  // Read only while loading; nothing may point into the settings later.
  SSL_CTX_set_default_passwd_cb_userdata(context, const_cast<std::string*>(&key_password));
  try {
    checkTls(SSL_CTX_use_certificate_chain_file(context, cert_file.c_str()) == 1, cert_file);
    checkValidity(context, cert_file);
    const std::string& key = key_file.empty() ? cert_file : key_file;
    checkTls(SSL_CTX_use_PrivateKey_file(context, key.c_str(), SSL_FILETYPE_PEM) == 1, key);
    checkTls(SSL_CTX_check_private_key(context) == 1, key + " does not match " + cert_file);
  } catch (...) {
    SSL_CTX_set_default_passwd_cb_userdata(context, nullptr);
    throw;
  }
  SSL_CTX_set_default_passwd_cb_userdata(context, nullptr);
}

}  // namespace rhp::net
