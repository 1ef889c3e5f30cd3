#include "proxy/backend_connection.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "net/tls_context.h"
#include "proxy/proxy_log.h"

namespace rhp::proxy {
namespace {

using namespace std::chrono_literals;

/* A redis node's TLS side, on its own thread with blocking sockets: TLS 1.3
 * only, with a client certificate required and checked against
 * `client_ca` (tls-auth-clients yes). It takes one connection and answers
 * each command +OK, or nothing when `silent`. */
class TlsNode {
 public:
  TlsNode(const std::string& dir, const std::string& client_ca, bool silent)
      : context_(SSL_CTX_new(TLS_server_method())), silent_(silent) {
    SSL_CTX_set_min_proto_version(context_.get(), TLS1_3_VERSION);
    if (SSL_CTX_use_certificate_chain_file(context_.get(), (dir + "/server.crt").c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(context_.get(), (dir + "/server.key").c_str(),
                                    SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_load_verify_locations(context_.get(), (dir + "/" + client_ca).c_str(), nullptr) !=
            1) {
      throw std::runtime_error("node certificates");
    }
    SSL_CTX_set_verify(context_.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in where{};
    where.sin_family = AF_INET;
    where.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(where);
    if (bind(listener_, reinterpret_cast<sockaddr*>(&where), length) != 0 ||
        listen(listener_, 1) != 0 ||
        getsockname(listener_, reinterpret_cast<sockaddr*>(&where), &length) != 0) {
      throw std::runtime_error("node socket");
    }
    port_ = ntohs(where.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~TlsNode() {
    if (thread_.joinable()) thread_.join();
    ::close(listener_);
  }

  std::uint16_t port() const { return port_; }
  /* What the connection carried to the node; waits for it to close. */
  std::string received() {
    if (thread_.joinable()) thread_.join();
    return received_;
  }

 private:
  struct Free {
    void operator()(SSL_CTX* context) const { SSL_CTX_free(context); }
  };

  void serve() {
    // A test that goes wrong (no connect, no close) does not hang here.
    const timeval limit{5, 0};
    setsockopt(listener_, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
    const int fd = accept(listener_, nullptr, nullptr);
    if (fd < 0) return;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
    SSL* ssl = SSL_new(context_.get());
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) == 1) {
      char chunk[4096];
      for (int n; (n = SSL_read(ssl, chunk, sizeof(chunk))) > 0;) {
        received_.append(chunk, static_cast<std::size_t>(n));
        // One reply per command: each starts with '*', and none of the
        // test's arguments holds one.
        const auto commands = std::count(chunk, chunk + n, '*');
        for (long i = 0; i < commands && !silent_; ++i) SSL_write(ssl, "+OK\r\n", 5);
      }
    }
    ERR_clear_error();
    SSL_free(ssl);
    // The alert has gone; a close with the proxy's bytes still unread
    // would reset the connection before the proxy reads it.
    shutdown(fd, SHUT_WR);
    char rest[4096];
    while (read(fd, rest, sizeof(rest)) > 0) {
    }
    ::close(fd);
  }

  std::unique_ptr<SSL_CTX, Free> context_;
  bool silent_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::string received_;  // the thread's until it ends
  std::thread thread_;
};

struct RecordingPool : BackendEvents {
  void onConnectionReady(BackendConnection&) override { ++readies; }
  void onConnectionDown(BackendConnection&, std::vector<RequestPtr> unsent) override {
    ++downs;
    unsent_requests += unsent.size();
  }
  void onRejected(BackendConnection&, RequestPtr, std::string_view) override {}

  int readies = 0;
  int downs = 0;
  std::size_t unsent_requests = 0;
};

/* The certificates of scripts/test_certs.sh, made once for the suite. */
class BackendConnectionTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char pattern[] = "/tmp/rhp-backend-tls-XXXXXX";
    dir_ = mkdtemp(pattern);
    const std::string command = std::string(RHP_SOURCE_DIR) + "/scripts/test_certs.sh " + dir_;
    ASSERT_EQ(std::system(command.c_str()), 0);
    if (!spdlog::get(kProxyLogger)) spdlog::create<spdlog::sinks::null_sink_st>(kProxyLogger);
  }
  static void TearDownTestSuite() { (void)!std::system(("rm -rf " + dir_).c_str()); }

  BackendConnectionTlsTest() {
    uv_loop_init(&loop_);
    net::TlsClientSettings tls;
    tls.enabled = true;
    tls.ca_cert_file = dir_ + "/ca.crt";
    tls.cert_file = dir_ + "/client.crt";
    tls.key_file = dir_ + "/client.key";
    tls_ = std::make_shared<const net::TlsClientContext>(tls);
    settings_.connect_timeout = 300ms;
  }
  ~BackendConnectionTlsTest() override {
    connection_.reset();
    uv_run(&loop_, UV_RUN_DEFAULT);  // the close callbacks
    uv_loop_close(&loop_);
  }

  void connect(const TlsNode& node) {
    connection_ = std::make_unique<BackendConnection>(
        &loop_, config::Address{"127.0.0.1", node.port()}, settings_, tls_, pool_, flush_, clock_);
    connection_->connect();
  }

  /* Runs the loop as a worker does: a flush at the end of each turn. */
  template <class Done>
  bool runUntil(Done done, std::chrono::milliseconds limit = 3000ms) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > end) return false;
      uv_run(&loop_, UV_RUN_NOWAIT);
      flush_.drain([](BackendConnection* connection) { connection->flush(); });
      std::this_thread::sleep_for(1ms);
    }
    return true;
  }

  static inline std::string dir_;
  uv_loop_t loop_{};
  config::Config::Backend settings_;
  BackendTls tls_;
  RecordingPool pool_;
  FlushList<BackendConnection> flush_;
  EventClock clock_;
  std::unique_ptr<BackendConnection> connection_;
};

TEST_F(BackendConnectionTlsTest, IsReadyOnlyOnceTheNodeHasAnsweredAPing) {
  TlsNode node(dir_, "ca.crt", false);
  connect(node);
  ASSERT_TRUE(runUntil([&] { return pool_.readies > 0; })) << connection_->lastFailure();
  EXPECT_TRUE(connection_->ready());
  EXPECT_EQ(pool_.downs, 0);
  connection_.reset();
  EXPECT_EQ(node.received(), "*1\r\n$4\r\nPING\r\n");
}

TEST_F(BackendConnectionTlsTest, TakesTheAnswerToItsAuthForTheNodesAndSendsNoPing) {
  settings_.password = "secret";
  TlsNode node(dir_, "ca.crt", false);
  connect(node);
  ASSERT_TRUE(runUntil([&] { return pool_.readies > 0; })) << connection_->lastFailure();
  connection_.reset();
  EXPECT_EQ(node.received(), "*2\r\n$4\r\nAUTH\r\n$6\r\nsecret\r\n");
}

/* TLS 1.3: the handshake is done on the proxy's side before the node
 * refuses the certificate (one round trip later). A connection counted
 * ready then would take client requests and lose them as "outcome
 * unknown"; it is a failed connect instead, with the node's reason. */
TEST_F(BackendConnectionTlsTest, ACertificateTheNodeRefusesAfterTheHandshakeIsAFailedConnect) {
  TlsNode node(dir_, "other-ca.crt", false);
  connect(node);
  ASSERT_TRUE(runUntil([&] { return pool_.downs > 0; }));
  EXPECT_EQ(pool_.readies, 0);
  EXPECT_EQ(pool_.unsent_requests, 0u);
  EXPECT_EQ(connection_->lostInFlight(), 0u);
  EXPECT_EQ(connection_->lastFailure(), "TLS: tlsv1 alert unknown ca");
  EXPECT_EQ(connection_->tlsFailure(), net::TlsFailure::PeerAlert);
}

TEST_F(BackendConnectionTlsTest, ANodeSilentAfterTheHandshakeFailsWithinTheConnectTimeout) {
  TlsNode node(dir_, "ca.crt", true);
  uv_update_time(&loop_);  // libuv times from the loop's clock, read at its last turn
  const auto start = std::chrono::steady_clock::now();
  connect(node);
  ASSERT_TRUE(runUntil([&] { return pool_.downs > 0; }));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, settings_.connect_timeout);  // the handshake and the wait for an answer
  EXPECT_LT(took, 3 * settings_.connect_timeout);
  EXPECT_EQ(pool_.readies, 0);
  EXPECT_EQ(connection_->lastFailure(),
            "no answer to the first command within backend.connect_timeout_ms");
  EXPECT_TRUE(connection_->idle());
}

}  // namespace
}  // namespace rhp::proxy
