#include "net/tls_server_context.h"

#include <openssl/err.h>

#include <stdexcept>

#include "net/tls_loading.h"

namespace rhp::net {

namespace {

/* A client's session can be resumed on any worker and after a reload
 * (tickets are encrypted with keys of this context, so a reload ends that):
 * one id context for the proxy. */
constexpr unsigned char kSessionIdContext[] = "redis-ha-proxy";

}  // namespace

TlsServerContext::TlsServerContext(const TlsServerSettings& settings)
    : settings_(settings), context_(SSL_CTX_new(TLS_server_method())) {
  ERR_clear_error();
  checkTls(context_ != nullptr, "SSL_CTX_new");
  SSL_CTX* context = context_.get();
  setTlsProtocols(context, settings_.protocols);
  // As for the nodes: no compression, no renegotiation (a client could make
  // the proxy do handshakes for free), and the 34 KB of record buffers given
  // back while a client is idle: 10,000 idle clients would otherwise hold
  // 340 MB.
  SSL_CTX_set_options(
      context, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_mode(context, SSL_MODE_RELEASE_BUFFERS);
  setTlsCiphers(context, settings_.ciphers, settings_.ciphersuites);
  if (settings_.cert_file.empty()) throw std::runtime_error("no tls_cert_file: clients need one");
  loadTlsCertificate(context, settings_.cert_file, settings_.key_file, settings_.key_file_pass);
  SSL_CTX_set_session_id_context(context, kSessionIdContext, sizeof(kSessionIdContext) - 1);
  if (settings_.auth_clients == TlsAuthClients::No) {
    SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nullptr);
    return;
  }
  if (settings_.ca_cert_file.empty() && settings_.ca_cert_dir.empty()) {
    throw std::runtime_error(
        "tls_auth_clients is yes or optional (yes is Redis's default) but no tls_ca_cert_file or "
        "tls_ca_cert_dir says which CAs client certificates come from; set one, or "
        "tls_auth_clients = \"no\"");
  }
  loadTlsCas(context, settings_.ca_cert_file, settings_.ca_cert_dir);
  // The CA names sent to the client, so that it picks the right certificate.
  if (!settings_.ca_cert_file.empty()) {
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(settings_.ca_cert_file.c_str())) {
      SSL_CTX_set_client_CA_list(context, names);
    }
  }
  const int mode = settings_.auth_clients == TlsAuthClients::Yes
                       ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
                       : SSL_VERIFY_PEER;
  SSL_CTX_set_verify(context, mode, nullptr);
}

}  // namespace rhp::net
