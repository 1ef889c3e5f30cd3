#include "net/tls_session.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <stdlib.h>

#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

#include "net/tls_context.h"

namespace rhp::net {
namespace {

/* The certificates of scripts/test_certs.sh, made once for the suite. */
class TlsSessionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char pattern[] = "/tmp/rhp-tls-XXXXXX";
    dir_ = mkdtemp(pattern);
    const std::string command = std::string(RHP_SOURCE_DIR) + "/scripts/test_certs.sh " + dir_;
    ASSERT_EQ(std::system(command.c_str()), 0);
  }
  static void TearDownTestSuite() { (void)!std::system(("rm -rf " + dir_).c_str()); }
  static std::string file(const std::string& name) { return dir_ + "/" + name; }

  static TlsClientSettings settings() {
    TlsClientSettings settings;
    settings.enabled = true;
    settings.ca_cert_file = file("ca.crt");
    return settings;
  }

  static inline std::string dir_;
};

/* A TLS server on memory buffers: the redis-server side, in test code. */
class Server {
 public:
  explicit Server(const std::string& certificate, const std::string& key)
      : context_(SSL_CTX_new(TLS_server_method())) {
    if (SSL_CTX_use_certificate_chain_file(context_.get(), certificate.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(context_.get(), key.c_str(), SSL_FILETYPE_PEM) != 1) {
      throw std::runtime_error("server certificate");
    }
    ssl_.reset(SSL_new(context_.get()));
    in_ = BIO_new(BIO_s_mem());
    out_ = BIO_new(BIO_s_mem());
    SSL_set_bio(ssl_.get(), in_, out_);
    SSL_set_accept_state(ssl_.get());
  }

  /* Moves bytes both ways until neither side has anything to say. */
  void exchange(TlsSession& client) {
    for (int turn = 0; turn < 20; ++turn) {
      const std::string to_server = client.takeOutput();
      if (!to_server.empty()) BIO_write(in_, to_server.data(), static_cast<int>(to_server.size()));
      SSL_do_handshake(ssl_.get());
      ERR_clear_error();
      const std::string to_client = pending();
      if (to_client.empty() && to_server.empty()) return;
      client.feed(to_client);
      client.handshake();
    }
  }
  std::string readAll() {
    std::string got;
    char chunk[4096];
    for (int n; (n = SSL_read(ssl_.get(), chunk, sizeof(chunk))) > 0;) got.append(chunk, n);
    ERR_clear_error();
    return got;
  }
  void write(const std::string& bytes) {
    SSL_write(ssl_.get(), bytes.data(), static_cast<int>(bytes.size()));
  }
  std::string pending() {
    std::string bytes(BIO_ctrl_pending(out_), '\0');
    if (!bytes.empty()) BIO_read(out_, bytes.data(), static_cast<int>(bytes.size()));
    return bytes;
  }
  void feed(const std::string& bytes) {
    BIO_write(in_, bytes.data(), static_cast<int>(bytes.size()));
  }

 private:
  struct Free {
    void operator()(SSL_CTX* context) const { SSL_CTX_free(context); }
    void operator()(SSL* ssl) const { SSL_free(ssl); }
  };
  std::unique_ptr<SSL_CTX, Free> context_;
  std::unique_ptr<SSL, Free> ssl_;
  BIO* in_ = nullptr;
  BIO* out_ = nullptr;
};

TlsSession::Step handshake(Server& server, TlsSession& client) {
  client.handshake();
  server.exchange(client);
  return client.handshake();
}

TEST_F(TlsSessionTest, CarriesBytesBothWaysInRecordsOfAnySize) {
  const TlsClientContext context(settings());
  TlsSession client(context, "127.0.0.1");
  Server server(file("server.crt"), file("server.key"));
  ASSERT_EQ(handshake(server, client), TlsSession::Step::Done) << client.failure();

  // Larger than a record (16 KiB): several records, one write.
  std::string request(100 * 1024, 'r');
  request[70000] = 'x';
  ASSERT_TRUE(client.write(request));
  server.feed(client.takeOutput());
  EXPECT_EQ(server.readAll(), request);

  std::string reply(50 * 1024, 'p');
  server.write(reply);
  client.feed(server.pending());
  std::string got;
  char room[1000];  // smaller than a record: read() hands it over in pieces
  for (long n; (n = client.read(room)) > 0;) got.append(room, static_cast<std::size_t>(n));
  EXPECT_EQ(got, reply);
  EXPECT_EQ(client.read(room), 0) << "nothing more: wait for the socket";
}

TEST_F(TlsSessionTest, AWrongNameOrAddressOrCaFailsTheHandshakeAndSaysWhich) {
  auto failure = [&](TlsClientSettings with, const std::string& host,
                     const std::string& certificate) {
    const TlsClientContext context(with);
    TlsSession client(context, host);
    Server server(file(certificate + ".crt"), file(certificate + ".key"));
    EXPECT_EQ(handshake(server, client), TlsSession::Step::Failed);
    return client.failure();
  };
  EXPECT_EQ(failure(settings(), "127.0.0.2", "server"),
            "certificate verify failed: IP address mismatch");
  TlsClientSettings named = settings();
  named.server_name = "wrong.test";
  EXPECT_EQ(failure(named, "127.0.0.1", "server"), "certificate verify failed: hostname mismatch");
  EXPECT_EQ(failure(settings(), "127.0.0.1", "other-server"),
            "certificate verify failed: unable to get local issuer certificate");
  EXPECT_EQ(failure(settings(), "127.0.0.1", "expired"),
            "certificate verify failed: certificate has expired");

  // The names the certificate does carry, and "chain", and "none".
  named.server_name = "redis.test";
  const TlsClientContext by_name(named);
  TlsSession client(by_name, "127.0.0.1");
  Server server(file("server.crt"), file("server.key"));
  EXPECT_EQ(handshake(server, client), TlsSession::Step::Done) << client.failure();
  TlsClientSettings chain = settings();
  chain.verify = TlsVerify::Chain;
  const TlsClientContext chain_only(chain);
  TlsSession any_name(chain_only, "127.0.0.9");
  Server other(file("server.crt"), file("server.key"));
  EXPECT_EQ(handshake(other, any_name), TlsSession::Step::Done) << any_name.failure();
  TlsClientSettings none = settings();
  none.verify = TlsVerify::None;
  const TlsClientContext insecure(none);
  TlsSession anyone(insecure, "127.0.0.1");
  Server stranger(file("other-server.crt"), file("other-server.key"));
  EXPECT_EQ(handshake(stranger, anyone), TlsSession::Step::Done) << anyone.failure();
}

TEST_F(TlsSessionTest, AContextThatCannotLoadSaysWhichFileAndWhy) {
  auto refusal = [](const TlsClientSettings& with) {
    try {
      const TlsClientContext context(with);
    } catch (const std::runtime_error& error) {
      return std::string(error.what());
    }
    return std::string("loaded");
  };
  TlsClientSettings missing = settings();
  missing.ca_cert_file = file("nothing.crt");
  EXPECT_EQ(refusal(missing).rfind(file("nothing.crt") + ": ", 0), 0u) << refusal(missing);
  TlsClientSettings expired = settings();
  expired.cert_file = file("expired.crt");
  expired.key_file = file("expired.key");
  EXPECT_EQ(refusal(expired), file("expired.crt") + ": the certificate has expired");
  TlsClientSettings mismatched = settings();
  mismatched.cert_file = file("client.crt");
  mismatched.key_file = file("server.key");
  EXPECT_EQ(refusal(mismatched), file("server.key") + ": key values mismatch");
  TlsClientSettings old = settings();
  old.protocols = "TLSv1.1 TLSv1.2";
  EXPECT_EQ(refusal(old),
            "tls protocols: 'TLSv1.1' is not one of TLSv1.2, TLSv1.3 (older "
            "versions are refused)");
  TlsClientSettings fine = settings();
  fine.cert_file = file("client.crt");
  fine.key_file = file("client.key");
  EXPECT_EQ(refusal(fine), "loaded");
}

/* Two of our own sessions, a client's and the proxy's TLS port's, talking
 * until neither has anything to say; the server's last step. */
TlsSession::Step converse(TlsSession& client, TlsSession& server) {
  TlsSession::Step step = TlsSession::Step::More;
  for (int turn = 0; turn < 20; ++turn) {
    client.handshake();
    const std::string to_server = client.takeOutput();
    server.feed(to_server);
    step = server.handshake();
    const std::string to_client = server.takeOutput();
    client.feed(to_client);
    // A failed session is not asked again (ClientStream closes it), and
    // asking would replace the failure's reason.
    if (step == TlsSession::Step::Failed) break;
    if (to_server.empty() && to_client.empty()) break;
  }
  return step;
}

/* The proxy's TLS port: tls_auth_clients yes requires a certificate from
 * the CA, optional takes a client without one, and the context refuses
 * settings that could not work. */
TEST_F(TlsSessionTest, TheServerSideAsksForClientCertificatesAsTlsAuthClientsSays) {
  TlsServerSettings port;
  port.cert_file = file("server.crt");
  port.key_file = file("server.key");
  port.ca_cert_file = file("ca.crt");
  const TlsServerContext requiring(port);
  TlsClientSettings with_certificate = settings();
  with_certificate.cert_file = file("client.crt");
  with_certificate.key_file = file("client.key");
  const TlsClientContext shown(with_certificate);
  const TlsClientContext anonymous(settings());
  {
    TlsSession client(shown, "127.0.0.1");
    TlsSession server(requiring);
    EXPECT_EQ(converse(client, server), TlsSession::Step::Done) << server.failure();
    ASSERT_TRUE(client.write("PING\r\n"));
    server.feed(client.takeOutput());
    char room[64];
    const long got = server.read(room);
    ASSERT_GT(got, 0);
    EXPECT_EQ(std::string_view(room, static_cast<std::size_t>(got)), "PING\r\n");
  }
  {
    TlsSession client(anonymous, "127.0.0.1");
    TlsSession server(requiring);
    EXPECT_EQ(converse(client, server), TlsSession::Step::Failed);
    EXPECT_EQ(classifyTlsFailure(server.failure()), TlsFailure::Certificate) << server.failure();
  }
  port.auth_clients = TlsAuthClients::Optional;
  const TlsServerContext optional(port);
  {
    TlsSession client(anonymous, "127.0.0.1");
    TlsSession server(optional);
    EXPECT_EQ(converse(client, server), TlsSession::Step::Done) << server.failure();
  }
  auto refusal = [](const TlsServerSettings& with) {
    try {
      const TlsServerContext context(with);
    } catch (const std::runtime_error& error) {
      return std::string(error.what());
    }
    return std::string("loaded");
  };
  TlsServerSettings no_ca = port;
  no_ca.ca_cert_file.clear();
  EXPECT_NE(refusal(no_ca).find("no tls_ca_cert_file or tls_ca_cert_dir"), std::string::npos);
  no_ca.auth_clients = TlsAuthClients::No;
  EXPECT_EQ(refusal(no_ca), "loaded");
  TlsServerSettings expired = port;
  expired.cert_file = file("expired.crt");
  expired.key_file = file("expired.key");
  EXPECT_EQ(refusal(expired), file("expired.crt") + ": the certificate has expired");
}

}  // namespace
}  // namespace rhp::net
