#pragma once

#include <openssl/ssl.h>

#include <string>

namespace rhp::net {

/* What the client context (the proxy connecting to nodes and sentinels) and
 * the server context (clients connecting to the proxy) load alike, from the
 * same kind of settings. Each throws std::runtime_error naming the file or
 * setting and OpenSSL's reason. */

/* "TLSv1.2 TLSv1.3" (Redis's tls-protocols): TLS 1.2 and 1.3 only. */
void setTlsProtocols(SSL_CTX* context, const std::string& protocols);
/* tls-ciphers (TLS 1.2) and tls-ciphersuites (TLS 1.3); empty: OpenSSL's. */
void setTlsCiphers(SSL_CTX* context, const std::string& ciphers, const std::string& ciphersuites);
/* The CAs a peer's certificate is checked against: the file, the directory,
 * or (both empty) the system's. */
void loadTlsCas(SSL_CTX* context, const std::string& ca_file, const std::string& ca_dir);
/* Our own certificate chain and its key (`key_file` empty: in the cert
 * file), the key's password never asked for on a terminal. A certificate
 * that has expired or is not valid yet is refused here, not by every peer
 * later, one handshake at a time. */
void loadTlsCertificate(SSL_CTX* context, const std::string& cert_file, const std::string& key_file,
                        const std::string& key_password);

/* Throws with `what` and OpenSSL's reason unless `ok`. */
void checkTls(bool ok, const std::string& what);

}  // namespace rhp::net
