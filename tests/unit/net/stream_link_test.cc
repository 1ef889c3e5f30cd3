#include "net/stream_link.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "config/address.h"
#include "net/socket_address.h"
#include "net/uv_handle.h"

namespace rhp::net {
namespace {

using namespace std::chrono_literals;

/* Records what the link tells its owner. */
struct RecordingOwner : StreamLink::Owner {
  std::span<char> readRoom() override { return room; }
  void onBytesIn(std::span<const char> bytes) override {
    received.append(bytes.data(), bytes.size());
  }
  void onLinkUp() override { ++ups; }
  void onLinkDown(int status) override { downs.push_back(status); }

  std::vector<char> room = std::vector<char>(64);
  std::string received;
  int ups = 0;
  std::vector<int> downs;
};

/* A loopback echo server on the test's loop: it sends back what it reads,
 * and closes when told. */
class EchoServer {
 public:
  EchoServer(uv_loop_t* loop, const sockaddr_storage& where) : loop_(loop) {
    uv_tcp_init(loop, listener_.allocate());
    listener_->data = this;
    uv_tcp_bind(listener_.get(), reinterpret_cast<const sockaddr*>(&where), 0);
    uv_listen(listener_.stream(), 8,
              [](uv_stream_t* server, int) { static_cast<EchoServer*>(server->data)->accept(); });
    sockaddr_storage bound{};
    int length = sizeof(bound);
    uv_tcp_getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&bound), &length);
    port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                              : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  }

  std::uint16_t port() const { return port_; }
  void closeClients() { clients_.clear(); }

 private:
  struct Echo {
    uv_write_t request{};
    std::string bytes;
  };

  void accept() {
    UvHandle<uv_tcp_t> client;
    uv_tcp_init(loop_, client.allocate());
    uv_accept(listener_.stream(), client.stream());
    uv_read_start(
        client.stream(),
        [](uv_handle_t*, size_t, uv_buf_t* buf) {
          static char chunk[256];  // one loop thread; the bytes go out at once
          *buf = uv_buf_init(chunk, sizeof(chunk));
        },
        [](uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
          if (nread <= 0) return;
          auto echo = std::make_unique<Echo>();
          echo->bytes.assign(buf->base, static_cast<std::size_t>(nread));
          echo->request.data = echo.get();
          uv_buf_t out = uv_buf_init(echo->bytes.data(), static_cast<unsigned>(echo->bytes.size()));
          if (uv_write(&echo->request, stream, &out, 1, [](uv_write_t* done, int) {
                std::unique_ptr<Echo> finished(static_cast<Echo*>(done->data));
              }) == 0) {
            echo.release();
          }
        });
    clients_.push_back(std::move(client));
  }

  uv_loop_t* loop_;
  UvHandle<uv_tcp_t> listener_;
  std::vector<UvHandle<uv_tcp_t>> clients_;
  std::uint16_t port_ = 0;
};

class StreamLinkTest : public ::testing::Test {
 protected:
  StreamLinkTest() {
    uv_loop_init(&loop_);
    link_ = std::make_unique<StreamLink>(&loop_, owner_);
  }
  ~StreamLinkTest() override {
    server_.reset();
    link_.reset();
    // Let every close callback run, so the loop closes and LSan sees no leak.
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
  }

  template <class Done>
  bool runUntil(Done done, std::chrono::milliseconds limit = 2000ms) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > end) return false;
      uv_run(&loop_, UV_RUN_NOWAIT);
      std::this_thread::sleep_for(1ms);
    }
    return true;
  }

  uv_loop_t loop_{};
  RecordingOwner owner_;
  std::unique_ptr<EchoServer> server_;
  std::unique_ptr<StreamLink> link_;
};

TEST_F(StreamLinkTest, ConnectsToANameLooksItUpAndCarriesBytesBothWays) {
  // Bound where "localhost" leads first (127.0.0.1 or ::1, per /etc/hosts),
  // so the link's own asynchronous lookup finds this server.
  std::string error;
  const auto where = config::resolveBlocking({"localhost", 0}, error);
  ASSERT_TRUE(where) << error;
  server_ = std::make_unique<EchoServer>(&loop_, *where);
  ASSERT_EQ(link_->connect("localhost", server_->port(), 1000ms), 0);
  ASSERT_TRUE(runUntil([&] { return owner_.ups == 1 || !owner_.downs.empty(); }));
  ASSERT_EQ(owner_.ups, 1);
  EXPECT_TRUE(link_->connected());
  // 100 bytes through a 64-byte room: the reads come in pieces, in order.
  const std::string sent(100, 'x');
  ASSERT_EQ(link_->sendBytes(sent + "!"), 0);
  ASSERT_TRUE(runUntil([&] { return owner_.received.size() == 101; }));
  EXPECT_EQ(owner_.received, sent + "!");
  server_->closeClients();
  ASSERT_TRUE(runUntil([&] { return !owner_.downs.empty(); }));
  EXPECT_EQ(owner_.downs, std::vector<int>{UV_EOF});
  EXPECT_FALSE(link_->connected());
  EXPECT_EQ(link_->sendBytes("late"), UV_ENOTCONN);
}

TEST_F(StreamLinkTest, ARefusedConnectIsReportedOnce) {
  // A port nobody listens on: bound and closed again at once.
  server_ = std::make_unique<EchoServer>(&loop_, *net::numericAddress("127.0.0.1", 0));
  const std::uint16_t port = server_->port();
  server_.reset();
  ASSERT_EQ(link_->connect("127.0.0.1", port, 1000ms), 0);
  ASSERT_TRUE(runUntil([&] { return !owner_.downs.empty(); }));
  runUntil([] { return false; }, 50ms);
  EXPECT_EQ(owner_.downs, std::vector<int>{UV_ECONNREFUSED});
  EXPECT_EQ(owner_.ups, 0);
}

TEST_F(StreamLinkTest, DestroyedWhileConnectingItCallsNoOne) {
  server_ = std::make_unique<EchoServer>(&loop_, *net::numericAddress("127.0.0.1", 0));
  ASSERT_EQ(link_->connect("127.0.0.1", server_->port(), 1000ms), 0);
  link_.reset();  // the connect request is still libuv's
  runUntil([] { return false; }, 100ms);
  EXPECT_EQ(owner_.ups, 0);
  EXPECT_TRUE(owner_.downs.empty());
}

TEST_F(StreamLinkTest, ClosedWhileConnectingItCanConnectAgain) {
  server_ = std::make_unique<EchoServer>(&loop_, *net::numericAddress("127.0.0.1", 0));
  ASSERT_EQ(link_->connect("127.0.0.1", server_->port(), 1000ms), 0);
  link_->close();
  ASSERT_EQ(link_->connect("127.0.0.1", server_->port(), 1000ms), 0);
  ASSERT_TRUE(runUntil([&] { return owner_.ups == 1; }));
  runUntil([] { return false; }, 50ms);
  EXPECT_EQ(owner_.ups, 1);  // the first attempt's callback reached no one
  EXPECT_TRUE(owner_.downs.empty());
}

}  // namespace
}  // namespace rhp::net
