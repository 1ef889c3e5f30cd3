#pragma once

#include <hiredis/hiredis.h>
#include <uv.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/address.h"
#include "net/stream_link.h"
#include "net/uv_handle.h"

namespace rhp::health {

/* A control-plane connection to one sentinel or redis node: commands with
 * callbacks, or a subscription. It builds reply objects (unlike the data
 * path, which only frames), connects lazily, enforces a connect timeout and
 * a "no progress" timeout on outstanding commands, and authenticates first
 * when a password is configured.
 *
 * Written on net::StreamLink (uv_tcp, names looked up off the loop) rather
 * than hiredis' async API because the hiredis 0.14 libuv adapter ignores
 * poll errors, which would leave a refused or reset connection hanging until
 * some timeout. Loop thread only. */
/* TLS failures of one kind of link, by net::TlsFailure. */
using TlsFailureCounts = std::array<std::uint64_t, net::kTlsFailures>;

class RedisLink : private net::StreamLink::Owner {
 public:
  struct Options {
    std::chrono::milliseconds connect_timeout{500};
    std::chrono::milliseconds command_timeout{1000};
    std::string username;
    std::string password;
    std::shared_ptr<const net::TlsClientContext> tls;  // null: plain TCP
    /* Where TLS failures are counted, by net::TlsFailure; may be null.
     * Outlives the link (the monitor's, on the same thread). */
    TlsFailureCounts* tls_failures = nullptr;
  };
  /* reply is nullptr when the command failed: no connection, timeout, or the
   * link closed. The reply is freed after the callback returns. */
  using ReplyCallback = std::function<void(const redisReply* reply)>;
  using MessageCallback = std::function<void(std::string_view channel, std::string_view payload)>;
  using StateCallback = std::function<void(bool connected)>;

  RedisLink(uv_loop_t* loop, config::Address address, Options options);
  ~RedisLink() override;
  RedisLink(const RedisLink&) = delete;
  RedisLink& operator=(const RedisLink&) = delete;

  void command(std::vector<std::string> args, ReplyCallback callback);

  /* Turns this link into a subscription that reconnects with backoff and
   * resubscribes until the link is destroyed. */
  void subscribe(std::vector<std::string> channels, MessageCallback on_message,
                 StateCallback on_state);

  /* Drops the connection, failing outstanding commands. A subscription
   * reconnects after its backoff. */
  void disconnect();

  /* A reload's new timeouts or credentials. Timeouts apply to the next
   * command; credentials to the next connection (an authenticated one is
   * kept, as redis-server keeps it when its password changes). */
  void setOptions(Options options) { options_ = std::move(options); }

  bool connected() const { return state_ == State::Connected; }
  const config::Address& address() const { return address_; }

 private:
  enum class State { Idle, Connecting, Connected };
  struct ReaderDeleter {
    void operator()(redisReader* reader) const { redisReaderFree(reader); }
  };

  void connect();
  // net::StreamLink::Owner
  std::span<char> readRoom() override { return read_buffer_; }
  void onBytesIn(std::span<const char> bytes) override;
  void onLinkUp() override;
  void onLinkDown(int status) override;
  /* The first reply on a connection: the node has accepted us. */
  void onAnswered();
  void onReply(redisReply* reply);
  void send(const std::vector<std::string>& args);
  void fail(std::string_view why);
  void armTimer(std::chrono::milliseconds timeout);
  void onTimer();
  void scheduleReconnect();

  uv_loop_t* loop_;
  config::Address address_;
  Options options_;
  State state_ = State::Idle;
  net::StreamLink link_;
  net::UvHandle<uv_timer_t> timer_;  // command timeout and reconnect backoff
  std::unique_ptr<redisReader, ReaderDeleter> reader_;
  std::deque<ReplyCallback> pending_;             // in the order sent
  std::vector<std::vector<std::string>> queued_;  // waiting for the connection
  std::vector<ReplyCallback> queued_callbacks_;
  std::vector<std::string> channels_;
  MessageCallback on_message_;
  StateCallback on_state_;
  std::vector<char> read_buffer_ = std::vector<char>(16 * 1024);
  std::chrono::milliseconds backoff_{100};
  bool reconnect_pending_ = false;
  bool retry_later_ = false;  // the failure being handled is a TLS one (see fail())
  bool logged_down_ = false;
  bool answered_ = false;           // on this connection; see onAnswered()
  std::string logged_tls_failure_;  // since the last answer
};

}  // namespace rhp::health
