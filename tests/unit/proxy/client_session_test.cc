#include "proxy/client_session.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "router/errors.h"

namespace rhp::proxy {
namespace {

/* The worker, faked at the session's seam: a real loop and the real shared
 * resources, but the backends are this test. Requests handed to the
 * shared lane are kept for the test to answer in any order. */
class FakeHost final : public SessionHost {
 public:
  struct Dispatched {
    router::Via via;
    RequestPtr request;
  };

  FakeHost() { uv_loop_init(&loop_); }
  ~FakeHost() override {
    dispatched.clear();
    login_checks.clear();
    retired_.clear();
    uv_run(&loop_, UV_RUN_NOWAIT);  // the closes of the session's handles
    uv_loop_close(&loop_);
  }

  const config::Config& config() const override { return config_; }
  const commands::AllowList& allowList() const override { return allow_list_; }
  const commands::LearnedCommands* learnedCommands() const override { return nullptr; }
  ProxyView proxyView() const override { return {&config_, nullptr, {}, 1, 0, true}; }
  void dispatch(router::Via via, RequestPtr request, std::optional<config::Address>&) override {
    dispatched.push_back({via, std::move(request)});
  }
  bool fencePasses(router::Fence, const std::optional<config::Address>&) override { return true; }
  std::optional<config::Address> masterForDedicated(ClientSession&) override {
    return std::nullopt;  // no master: dedicated requests wait
  }
  void forgetDedicated(ClientSession&) override {}
  void retireConnection(std::unique_ptr<BackendConnection> connection) override {
    retired_.push_back(std::move(connection));
  }
  std::string_view holdFailureError() const override { return errors::kHoldTimeout; }
  BackendLoginPtr acceptedLogin(std::string_view, std::string_view) override { return nullptr; }
  void checkLogin(std::shared_ptr<BackendLogin> login, RequestPtr request) override {
    ++login_check_calls;
    // As Worker::checkLogin with no node to ask: answered at once (a few
    // times only, so that a loop of them fails the test, not the binary).
    if (answer_logins_at_once && login_check_calls <= 5) {
      deliverReply(*request, errors::kLoginUnchecked);
      return;
    }
    login_checks.push_back({std::move(login), std::move(request)});
  }
  void loginAccepted(const BackendLoginPtr& login) override { accepted.push_back(login); }
  BackendLoginPtr passthroughDefault() const override { return nullptr; }
  void useResp3() override { resp3_used = true; }
  std::uint64_t newClientId() override { return ++client_ids; }
  void scheduleFlush(ClientSession& session) override { flush_.add(&session); }
  void noteClientMemory(std::int64_t delta) override { client_memory += delta; }
  void onSessionClosed(ClientSession&) override { closed = true; }
  const config::AclUsers& users() const override { return users_; }
  void onClientTlsFailure(net::TlsFailure failure, std::string_view, std::string_view) override {
    tls_failures.push_back(failure);
  }
  uv_loop_t* loop() override { return &loop_; }
  EventClock& clock() override { return clock_; }
  WorkerMetrics& metrics() override { return metrics_; }
  RequestPool& requestPool() override { return requests_; }
  std::vector<char>& readBuffer() override { return read_buffer_; }
  FlushList<BackendConnection>& backendFlushList() override { return backend_flush_; }
  const BackendTls& backendTls() const override { return backend_tls_; }

  /* One loop turn and its end, as the worker runs them. */
  void turn() {
    uv_run(&loop_, UV_RUN_NOWAIT);
    flush_.drain([](ClientSession* session) { session->flush(); });
  }

  config::Config config_;
  std::vector<Dispatched> dispatched;
  std::int64_t client_memory = 0;
  bool closed = false;
  std::vector<net::TlsFailure> tls_failures;
  config::AclUsers users_{"", {}};
  bool resp3_used = false;
  std::uint64_t client_ids = 0;
  struct LoginCheck {
    std::shared_ptr<BackendLogin> login;
    RequestPtr request;
  };
  std::vector<LoginCheck> login_checks;  // passthrough AUTHs, for the test to answer
  std::vector<BackendLoginPtr> accepted;
  bool answer_logins_at_once = false;
  std::size_t login_check_calls = 0;

 private:
  RequestPool requests_;  // first: outlives every request
  uv_loop_t loop_{};
  commands::AllowList allow_list_;
  EventClock clock_;
  WorkerMetrics metrics_;
  std::vector<char> read_buffer_ = std::vector<char>(64 * 1024);
  FlushList<ClientSession> flush_;
  FlushList<BackendConnection> backend_flush_;
  BackendTls backend_tls_;  // plain TCP
  std::vector<std::unique_ptr<BackendConnection>> retired_;
};

/* A session on one end of a loopback TCP connection; the test is the
 * client on the other end. */
class ClientSessionTest : public ::testing::Test {
 protected:
  void SetUp() override { start(); }

  void start() {
    const int listener = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    ASSERT_EQ(listen(listener, 1), 0);
    socklen_t length = sizeof address;
    getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
    client_ = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_EQ(connect(client_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    const int accepted = accept(listener, nullptr, nullptr);
    close(listener);
    fcntl(client_, F_SETFL, O_NONBLOCK);
    net::UvHandle<uv_tcp_t> tcp;
    uv_tcp_init(host_.loop(), tcp.allocate());
    ASSERT_EQ(uv_tcp_open(tcp.get(), accepted), 0);
    session_ = std::make_unique<ClientSession>(host_, std::move(tcp));
    session_->start();
  }

  void TearDown() override {
    session_.reset();
    if (client_ >= 0) close(client_);
  }

  void send(std::string_view bytes) {
    ASSERT_EQ(::send(client_, bytes.data(), bytes.size(), 0), static_cast<ssize_t>(bytes.size()));
  }

  /* Runs the loop until `count` requests reached the backends (or 2 s). */
  void waitForDispatched(std::size_t count) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (host_.dispatched.size() < count && std::chrono::steady_clock::now() < deadline) {
      host_.turn();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_GE(host_.dispatched.size(), count);
  }

  /* Runs the loop and reads what the client got, until `size` bytes (or 2 s). */
  std::string receive(std::size_t size) {
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (out.size() < size && std::chrono::steady_clock::now() < deadline) {
      host_.turn();
      char buffer[4096];
      const ssize_t n = recv(client_, buffer, sizeof buffer, 0);
      if (n > 0) out.append(buffer, static_cast<std::size_t>(n));
      if (n <= 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return out;
  }

  /* Turns the loop for a while; what the client got meanwhile. */
  std::string receiveFor(std::chrono::milliseconds time) {
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + time;
    while (std::chrono::steady_clock::now() < deadline) {
      host_.turn();
      char buffer[4096];
      const ssize_t n = recv(client_, buffer, sizeof buffer, 0);
      if (n > 0) out.append(buffer, static_cast<std::size_t>(n));
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return out;
  }

  void answer(std::size_t index, std::string_view reply) {
    deliverReply(*host_.dispatched.at(index).request, reply);
  }

  FakeHost host_;
  std::unique_ptr<ClientSession> session_;
  int client_ = -1;
};

TEST_F(ClientSessionTest, RepliesGoBackInRequestOrderWhateverOrderTheyArriveIn) {
  send("*2\r\n$3\r\nGET\r\n$1\r\na\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n1\r\nGET c\r\n");
  waitForDispatched(3);
  EXPECT_EQ(host_.dispatched[0].via, router::Via::Read);
  EXPECT_EQ(host_.dispatched[1].via, router::Via::Master);
  EXPECT_EQ(host_.dispatched[2].via, router::Via::Read);
  // An inline request is forwarded as RESP.
  EXPECT_EQ(host_.dispatched[2].request->payload, "*2\r\n$3\r\nGET\r\n$1\r\nc\r\n");
  answer(2, "$1\r\nC\r\n");
  answer(1, "+OK\r\n");
  EXPECT_EQ(receiveFor(std::chrono::milliseconds(20)), "");  // the first is still owed
  answer(0, "$1\r\nA\r\n");
  EXPECT_EQ(receive(19), "$1\r\nA\r\n+OK\r\n$1\r\nC\r\n");
}

/* proxy.auth = "passthrough": a node checks the AUTH (the host's
 * checkLogin), what the client pipelined behind it waits for the answer and
 * then travels as the user it logged in as, a command the node refused the
 * user at login is refused by the proxy as Redis words it, and a refused
 * AUTH leaves the client who it was. */
TEST_F(ClientSessionTest, APassthroughAuthHoldsWhatFollowsUntilANodeAnswers) {
  session_.reset();
  close(client_);
  host_.config_.proxy.auth = config::AuthMode::Passthrough;
  host_.users_ = config::AclUsers::nodesDecide(false, {});
  start();
  send("GET a\r\n");
  EXPECT_EQ(receive(34), "-NOAUTH Authentication required.\r\n");

  send("AUTH reader rpw\r\nGET a\r\n");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (host_.login_checks.empty() && std::chrono::steady_clock::now() < deadline) host_.turn();
  ASSERT_EQ(host_.login_checks.size(), 1u);
  EXPECT_EQ(host_.login_checks[0].login->username, "reader");
  EXPECT_EQ(host_.login_checks[0].login->password, "rpw");
  EXPECT_EQ(receiveFor(std::chrono::milliseconds(20)), "");
  EXPECT_TRUE(host_.dispatched.empty()) << "a request went out before its AUTH was answered";
  host_.login_checks[0].login->refused.push_back("-echo");  // as LoginProbe finds it
  deliverReply(*host_.login_checks[0].request, "+OK\r\n");
  waitForDispatched(1);
  EXPECT_EQ(host_.dispatched[0].request->login, host_.login_checks[0].login);
  answer(0, "$1\r\nA\r\n");
  EXPECT_EQ(receive(12), "+OK\r\n$1\r\nA\r\n");
  ASSERT_EQ(host_.accepted.size(), 1u);

  send("ECHO x\r\n");
  EXPECT_EQ(receive(65), "-NOPERM this user has no permissions to run the 'echo' command\r\n");

  send("AUTH writer bad\r\nACL WHOAMI\r\n");
  while (host_.login_checks.size() < 2 &&
         std::chrono::steady_clock::now() < deadline + std::chrono::seconds(2)) {
    host_.turn();
  }
  ASSERT_EQ(host_.login_checks.size(), 2u);
  deliverReply(*host_.login_checks[1].request, errors::kWrongPass);
  EXPECT_EQ(receive(errors::kWrongPass.size() + 12),
            std::string(errors::kWrongPass) + "$6\r\nreader\r\n");
}

TEST_F(ClientSessionTest, ALocalAnswerWaitsForTheRepliesBeforeIt) {
  send("*2\r\n$3\r\nGET\r\n$1\r\na\r\n*1\r\n$4\r\nPING\r\n");
  waitForDispatched(1);
  EXPECT_EQ(receiveFor(std::chrono::milliseconds(20)), "");
  EXPECT_EQ(host_.dispatched.size(), 1u);  // PING never reaches a backend
  answer(0, "$-1\r\n");
  EXPECT_EQ(receive(12), "$-1\r\n+PONG\r\n");
}

TEST_F(ClientSessionTest, ARefusedCommandNeverReachesABackend) {
  using namespace std::string_literals;
  const std::string smuggled = "*4\r\n$6\r\nCONFIG\r\n$4\r\nSET\0\r\n$1\r\na\r\n$1\r\nb\r\n"s;
  send(smuggled);
  send("*2\r\n$5\r\nDEBUG\r\n$5\r\nSLEEP\r\n");
  const std::string replies = receive(1);
  receiveFor(std::chrono::milliseconds(20));
  EXPECT_TRUE(host_.dispatched.empty());
  EXPECT_TRUE(replies.starts_with("-ERR redis-ha-proxy refuses command")) << replies;
}

TEST_F(ClientSessionTest, AClientThatLeavesIsNeverAnsweredAndItsRequestsForgetIt) {
  send("*2\r\n$3\r\nGET\r\n$1\r\na\r\n");
  waitForDispatched(1);
  close(client_);
  client_ = -1;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (!host_.closed && std::chrono::steady_clock::now() < deadline) host_.turn();
  ASSERT_TRUE(host_.closed);
  EXPECT_FALSE(host_.dispatched[0].request->reply_to.waiting());
  answer(0, "$1\r\nA\r\n");  // dropped, as redis-server drops it
  EXPECT_EQ(host_.client_memory, 0);
}

/* proxy.client_output_backlog: a client that pipelines without reading
 * has at most a window of requests in the proxy (16 before replies show
 * their size); the rest waits in its socket, nothing is dropped. */
TEST_F(ClientSessionTest, APipelineThatIsNotReadStopsAtTheWindow) {
  std::string pipeline;
  for (int i = 0; i < 100; ++i) pipeline += "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
  send(pipeline);
  receiveFor(std::chrono::milliseconds(50));
  EXPECT_EQ(host_.dispatched.size(), 16u);
  EXPECT_EQ(host_.metrics().clients_paused.value(), 1u);
  for (std::size_t i = 0; i < 16; ++i) answer(i, "$1\r\nv\r\n");
  std::string replies = receive(16 * 7);
  EXPECT_GT(host_.dispatched.size(), 16u);  // reading resumed
  for (std::size_t answered = 16; answered < 100;) {
    waitForDispatched(answered + 1);
    for (; answered < host_.dispatched.size(); ++answered) answer(answered, "$1\r\nv\r\n");
  }
  replies += receive(100 * 7 - replies.size());
  EXPECT_EQ(replies.size(), 100u * 7);
  EXPECT_EQ(host_.dispatched.size(), 100u);
}

TEST_F(ClientSessionTest, TheHostKnowsHowMuchMemoryTheClientHolds) {
  send("*2\r\n$3\r\nGET\r\n$1\r\na\r\n");
  waitForDispatched(1);
  host_.turn();
  EXPECT_EQ(host_.client_memory, static_cast<std::int64_t>(session_->memoryUsage()));
  EXPECT_GT(host_.client_memory, 0);  // the request not yet answered
  answer(0, "$1\r\nA\r\n");
  receive(7);
  EXPECT_EQ(host_.client_memory, static_cast<std::int64_t>(session_->memoryUsage()));
}

/* The lane switch: a request for the client's own connection waits until
 * the shared lane's requests are answered, as on one Redis connection. */
TEST_F(ClientSessionTest, ABlockingCommandWaitsForTheClientsEarlierWrites) {
  send(
      "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n"
      "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
  waitForDispatched(1);
  receiveFor(std::chrono::milliseconds(20));
  // BLPOP waits for its own connection (no master here) and GET behind it.
  EXPECT_EQ(host_.dispatched.size(), 1u);
  answer(0, "+OK\r\n");
  EXPECT_EQ(receive(5), "+OK\r\n");
  receiveFor(std::chrono::milliseconds(20));
  EXPECT_EQ(host_.dispatched.size(), 1u);
  EXPECT_FALSE(session_->idleForDrain());
}

/* A WATCH that failed (no master within failover.hold_ms, or lost in
 * flight) opened no transaction, as when Redis refuses a WATCH: the client
 * (redis-py does) simply sends WATCH again, which must wait for the master
 * like the first, not be answered "transaction aborted" for good
 * (benchmarks/failover.py, SIGKILL: 75 such errors in one run). */
TEST_F(ClientSessionTest, AWatchThatFailedLeavesNoTransactionBehind) {
  host_.config_.failover.hold = std::chrono::milliseconds(0);
  send("WATCH k\r\n");
  EXPECT_EQ(receiveFor(std::chrono::milliseconds(10)), "");  // no master: it waits
  session_->onTick(host_.now());
  EXPECT_EQ(receive(errors::kHoldTimeout.size()), errors::kHoldTimeout);
  send("WATCH k\r\n");
  EXPECT_EQ(receiveFor(std::chrono::milliseconds(10)), "");  // waits again
  session_->onTick(host_.now());
  EXPECT_EQ(receive(errors::kHoldTimeout.size()), errors::kHoldTimeout);
}

/* HELLO 3 makes the client's requests RESP3 ones, which the worker sends
 * on RESP3 connections; RESET takes it back to RESP2. */
TEST_F(ClientSessionTest, TheClientsProtocolTravelsWithItsRequests) {
  send("HELLO 3\r\nGET a\r\nRESET\r\nGET b\r\n");
  waitForDispatched(1);
  EXPECT_TRUE(host_.resp3_used);
  EXPECT_EQ(host_.dispatched[0].request->resp, commands::Resp::V3);
  answer(0, "_\r\n");
  waitForDispatched(2);
  EXPECT_EQ(host_.dispatched[1].request->resp, commands::Resp::V2);
}

/* A RESP3 SUBSCRIBE that never found a master within failover.hold_ms:
 * the client is disconnected, as a subscriber whose Redis went away (its
 * confirmations cannot be made up), instead of waiting for good. */
TEST_F(ClientSessionTest, AResp3SubscribeThatNeverWentOutEndsTheConnection) {
  host_.config_.failover.hold = std::chrono::milliseconds(0);
  send("HELLO 3\r\n");
  const std::string hello = receive(20);
  ASSERT_TRUE(hello.starts_with("%7\r\n")) << hello;
  receiveFor(std::chrono::milliseconds(10));  // the rest of the map
  send("SUBSCRIBE a\r\n");
  EXPECT_EQ(receiveFor(std::chrono::milliseconds(10)), "");
  EXPECT_FALSE(host_.closed);
  session_->onTick(host_.now());
  EXPECT_TRUE(host_.closed);
}

/* proxy.auth = "passthrough": the nodes check the AUTH (FakeHost::checkLogin). */
class PassthroughSessionTest : public ClientSessionTest {
 protected:
  void SetUp() override {
    host_.config_.proxy.auth = config::AuthMode::Passthrough;
    host_.users_ = config::AclUsers::nodesDecide(false, {});
    start();
  }
};

/* A pipeline behind AUTH waits for the check, then runs as the user, in
 * order. */
/* A client that never logged in is whatever the nodes' `default` is at
 * each command (Redis 7.0's authRequired): refused while it has a
 * password, let in once it has none, with the rights it has. */
TEST_F(PassthroughSessionTest, AClientThatNeverLoggedInFollowsTheNodesDefaultUser) {
  send("GET a\r\n");
  EXPECT_EQ(receive(34), "-NOAUTH Authentication required.\r\n");
  host_.users_ = config::AclUsers::nodesDecide(true, {"-echo"});
  send("GET a\r\nECHO x\r\n");
  waitForDispatched(1);
  answer(0, "$-1\r\n");
  EXPECT_EQ(receive(70),
            "$-1\r\n-NOPERM this user has no permissions to run the 'echo' command\r\n");
  host_.users_ = config::AclUsers::nodesDecide(false, {});
  send("GET a\r\n");
  EXPECT_EQ(receive(34), "-NOAUTH Authentication required.\r\n");
}

TEST_F(PassthroughSessionTest, RequestsBehindAuthWaitForItsCheck) {
  send("*3\r\n$4\r\nAUTH\r\n$1\r\nu\r\n$1\r\np\r\nGET a\r\nGET b\r\n");
  receiveFor(std::chrono::milliseconds(20));
  ASSERT_EQ(host_.login_checks.size(), 1u);
  EXPECT_TRUE(host_.dispatched.empty());
  deliverReply(*host_.login_checks[0].request, "+OK\r\n");
  waitForDispatched(2);
  EXPECT_EQ(host_.dispatched[0].request->payload, "*2\r\n$3\r\nGET\r\n$1\r\na\r\n");
  ASSERT_NE(host_.dispatched[0].request->login, nullptr);
  EXPECT_EQ(host_.dispatched[0].request->login->username, "u");
  EXPECT_EQ(receive(5), "+OK\r\n");
}

/* An AUTH whose check is answered at once (Worker::checkLogin with no node
 * that can take it) while its bytes are still in input_: onLoginChecked()
 * parses input_ again from the start, from inside the parse of input_, so
 * the AUTH runs again, and again (a stack overflow in the worker). */
TEST_F(PassthroughSessionTest, AnAuthCheckedAtOnceRunsOnce) {
  host_.answer_logins_at_once = true;
  send("*3\r\n$4\r\nAUTH\r\n$1\r\nu\r\n$1");  // part of a frame: kept in input_
  receiveFor(std::chrono::milliseconds(20));
  send("\r\np\r\n");
  const std::string replies = receiveFor(std::chrono::milliseconds(50));
  EXPECT_EQ(host_.login_check_calls, 1u);
  EXPECT_EQ(replies, errors::kLoginUnchecked);
}

/* The same, with a request behind the AUTH in the same read: it runs
 * once, after the AUTH's answer. */
TEST_F(PassthroughSessionTest, WhatFollowsAnAuthCheckedAtOnceRunsOnceInOrder) {
  host_.answer_logins_at_once = true;
  send("*3\r\n$4\r\nAUTH\r\n$1\r\nu\r\n$1");
  receiveFor(std::chrono::milliseconds(20));
  send("\r\np\r\nPING\r\n*3\r\n$4\r\nAUTH\r\n$1\r\nv\r\n$1\r\nq\r\nPING\r\n");
  const std::string replies = receiveFor(std::chrono::milliseconds(50));
  EXPECT_EQ(host_.login_check_calls, 2u);
  const std::string noauth(errors::kNoAuth);
  EXPECT_EQ(replies, std::string(errors::kLoginUnchecked) + noauth +
                         std::string(errors::kLoginUnchecked) + noauth);
}

}  // namespace
}  // namespace rhp::proxy
