#pragma once

#include <string>

namespace rhp::net {

/* What an outgoing TLS connection checks of the server it reached. */
enum class TlsVerify {
  Full,   // the chain to a trusted CA, and the server's name or address
  Chain,  // the chain only: what redis-server itself checks of its master
  None,   // nothing, like redis-cli --insecure: encryption without identity
};

/* One kind of outgoing TLS connection (to the redis nodes, or to the
 * sentinels), named after Redis's own tls-* directives. */
struct TlsClientSettings {
  bool enabled = false;
  std::string ca_cert_file;   // tls-ca-cert-file; with ca_cert_dir empty too: the system's CAs
  std::string ca_cert_dir;    // tls-ca-cert-dir
  std::string cert_file;      // tls-cert-file: a client certificate, for tls-auth-clients yes
  std::string key_file;       // tls-key-file
  std::string key_file_pass;  // tls-key-file-pass
  /* Sent as SNI and checked in the certificate. Empty: the address
   * connected to is checked, an IP (what Sentinel reports unless
   * announce-hostnames is on) against the certificate's IP entries. */
  std::string server_name;
  TlsVerify verify = TlsVerify::Full;
  std::string protocols = "TLSv1.2 TLSv1.3";  // tls-protocols; older ones are refused
  std::string ciphers;                        // tls-ciphers (TLS 1.2); empty: OpenSSL's
  std::string ciphersuites;                   // tls-ciphersuites (TLS 1.3); empty: OpenSSL's

  bool operator==(const TlsClientSettings&) const = default;
};

/* Which clients must show a certificate (Redis's tls-auth-clients). */
enum class TlsAuthClients {
  No,        // none is asked for
  Optional,  // one is asked for and checked if given
  Yes,       // one is required (Redis's default)
};

/* The proxy's own TLS port, for clients (Redis's tls-* directives for its
 * tls-port). */
struct TlsServerSettings {
  std::string cert_file;      // tls-cert-file: the certificate clients check
  std::string key_file;       // tls-key-file (empty: in the cert file)
  std::string key_file_pass;  // tls-key-file-pass
  std::string ca_cert_file;   // tls-ca-cert-file: the CAs client certificates are checked against
  std::string ca_cert_dir;    // tls-ca-cert-dir
  TlsAuthClients auth_clients = TlsAuthClients::Yes;
  std::string protocols = "TLSv1.2 TLSv1.3";
  std::string ciphers;
  std::string ciphersuites;

  bool operator==(const TlsServerSettings&) const = default;
};

}  // namespace rhp::net
