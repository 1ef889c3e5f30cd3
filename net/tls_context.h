#pragma once

#include <openssl/ssl.h>

#include <exception>
#include <memory>
#include <string>

#include "net/tls_settings.h"

namespace rhp::net {

/* The OpenSSL context outgoing TLS connections are made from: trusted CAs,
 * the client certificate, protocols and ciphers, loaded once from files.
 * Immutable after construction, so connections on any thread may share it
 * (OpenSSL counts its references; each connection holds one). A reload
 * builds a new one; connections already up keep theirs. */
class TlsClientContext {
 public:
  /* Throws std::runtime_error naming the file or setting and OpenSSL's
   * reason; a client certificate that has expired, or is not valid yet,
   * is refused here rather than by every server later. */
  explicit TlsClientContext(const TlsClientSettings& settings);

  SSL_CTX* get() const { return context_.get(); }
  const TlsClientSettings& settings() const { return settings_; }

 private:
  struct Free {
    void operator()(SSL_CTX* context) const { SSL_CTX_free(context); }
  };
  TlsClientSettings settings_;  // before context_: its key password is read while loading
  std::unique_ptr<SSL_CTX, Free> context_;
};

/* A context (TlsClientContext, TlsServerContext) for `settings`, or null
 * when TLS is off. On a reload the files may have changed since the config
 * was checked: when they no longer load, `current` stays in force and
 * `error` says why (it is empty otherwise). Without a `current` it throws
 * instead: a connection that should be TLS is never made in plain TCP. */
template <class Context, class Settings>
std::shared_ptr<const Context> reloadTlsContext(bool enabled, const Settings& settings,
                                                std::shared_ptr<const Context> current,
                                                std::string& error) {
  error.clear();
  if (!enabled) return nullptr;
  try {
    return std::make_shared<const Context>(settings);
  } catch (const std::exception& failure) {
    if (current == nullptr) throw;
    error = failure.what();
    return current;
  }
}

/* The reason OpenSSL gave for the last failure on this thread (its error
 * queue, emptied), or `otherwise` when it gave none. */
std::string takeTlsError(const std::string& otherwise);

}  // namespace rhp::net
