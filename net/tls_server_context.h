#pragma once

#include <openssl/ssl.h>

#include <memory>

#include "net/tls_settings.h"

namespace rhp::net {

/* The OpenSSL context clients' TLS connections to the proxy are accepted
 * with: the proxy's certificate and key, the CAs client certificates are
 * checked against, protocols and ciphers, loaded once from files. Immutable
 * after construction, so every worker may share it; a reload builds a new
 * one and connections already up keep theirs (each SSL holds a reference to
 * its SSL_CTX). */
class TlsServerContext {
 public:
  /* Throws std::runtime_error naming the file or setting and OpenSSL's
   * reason: no certificate, a key that does not match, an expired
   * certificate, tls_auth_clients without CAs. */
  explicit TlsServerContext(const TlsServerSettings& settings);

  SSL_CTX* get() const { return context_.get(); }
  const TlsServerSettings& settings() const { return settings_; }

 private:
  struct Free {
    void operator()(SSL_CTX* context) const { SSL_CTX_free(context); }
  };
  TlsServerSettings settings_;
  std::unique_ptr<SSL_CTX, Free> context_;
};

}  // namespace rhp::net
