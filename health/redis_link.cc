#include "health/redis_link.h"

#include "commands/resp_array.h"
#include "health/health_log.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace rhp::health {

namespace {

constexpr std::chrono::milliseconds kMaxBackoff{2000};

std::string encode(const std::vector<std::string>& args) {
  std::string out;
  commands::appendCommand(out, args);
  return out;
}

}  // namespace

RedisLink::RedisLink(uv_loop_t* loop, config::Address address, Options options)
    : loop_(loop), address_(std::move(address)), options_(std::move(options)), link_(loop, *this) {
  if (uv_timer_init(loop_, timer_.allocate()) != 0) {
    timer_.discardUninitialized();
    throw std::runtime_error("uv_timer_init failed");
  }
  timer_->data = this;
}

RedisLink::~RedisLink() {
  on_message_ = nullptr;
  on_state_ = nullptr;
  channels_.clear();
  fail("link closed");
}

void RedisLink::command(std::vector<std::string> args, ReplyCallback callback) {
  if (state_ == State::Connected) {
    send(args);
    pending_.push_back(std::move(callback));
    if (pending_.size() == 1) armTimer(options_.command_timeout);
    return;
  }
  queued_.push_back(std::move(args));
  queued_callbacks_.push_back(std::move(callback));
  if (state_ == State::Idle && !reconnect_pending_) connect();
}

void RedisLink::subscribe(std::vector<std::string> channels, MessageCallback on_message,
                          StateCallback on_state) {
  channels_ = std::move(channels);
  on_message_ = std::move(on_message);
  on_state_ = std::move(on_state);
  if (state_ == State::Connected) {
    std::vector<std::string> args{"SUBSCRIBE"};
    args.insert(args.end(), channels_.begin(), channels_.end());
    send(args);
  } else if (state_ == State::Idle && !reconnect_pending_) {
    connect();
  }
}

void RedisLink::disconnect() {
  fail("disconnect requested");
}

void RedisLink::connect() {
  reconnect_pending_ = false;
  state_ = State::Connecting;
  // The lookup (for a name) and the connect both count against the timeout.
  if (const int error =
          link_.connect(address_.host, address_.port, options_.connect_timeout, options_.tls);
      error != 0) {
    fail(uv_strerror(error));
  }
}

void RedisLink::onLinkDown(int status) {
  if (state_ == State::Connecting && status == UV_ETIMEDOUT) {
    fail("connect timed out");
  } else if ((status == UV_EOF || status == UV_ECONNRESET) && !answered_ &&
             options_.tls == nullptr && state_ == State::Connected) {
    // A TLS-only port (redis-server or sentinel with `port 0`) reads our
    // plain command as a broken handshake and closes without a word: said
    // once where an operator looks, as a TLS failure is.
    const std::string why =
        "closed by the peer before answering (a TLS-only port? then set tls = true in [backend] "
        "and [sentinel])";
    if (why != logged_tls_failure_) {
      healthLog()->error("link failed address={} reason=\"{}\"", address_.toString(), why);
      logged_tls_failure_ = why;
    }
    retry_later_ = true;
    fail(why);
  } else if (status == UV_EOF) {
    fail("connection closed by peer");
  } else if (status == UV_EPROTO) {
    // A wrong CA, certificate or name does not mend itself: said once per
    // episode where an operator looks, not at debug like a refused connect;
    // and again if the episode began otherwise (a certificate rotated, then
    // the connection dropped: "closed by peer" comes first).
    const std::string why = link_.describe(status);
    const auto kind = link_.tlsFailure();
    if (options_.tls_failures != nullptr && kind) {
      ++(*options_.tls_failures)[static_cast<std::size_t>(*kind)];
    }
    if (why != logged_tls_failure_) {
      healthLog()->error("link failed address={} reason=\"{}\"", address_.toString(), why);
      logged_tls_failure_ = why;
    }
    retry_later_ = true;
    fail(why);
  } else {
    fail(link_.describe(status));
  }
}

void RedisLink::onLinkUp() {
  state_ = State::Connected;
  answered_ = false;
  reader_.reset(redisReaderCreate());
  if (!options_.password.empty()) {
    std::vector<std::string> auth{"AUTH"};
    if (!options_.username.empty()) auth.push_back(options_.username);
    auth.push_back(options_.password);
    send(auth);
    pending_.push_front([this](const redisReply* reply) {
      if (reply != nullptr && reply->type == REDIS_REPLY_ERROR) {
        healthLog()->error("authentication failed address={} error=\"{}\"", address_.toString(),
                           std::string_view(reply->str, reply->len));
      }
    });
  }
  if (!channels_.empty()) {
    std::vector<std::string> args{"SUBSCRIBE"};
    args.insert(args.end(), channels_.begin(), channels_.end());
    send(args);
    if (on_state_) on_state_(true);
  }
  auto queued = std::exchange(queued_, {});
  auto callbacks = std::exchange(queued_callbacks_, {});
  for (std::size_t i = 0; i < queued.size(); ++i) {
    send(queued[i]);
    pending_.push_back(std::move(callbacks[i]));
  }
  if (!pending_.empty()) armTimer(options_.command_timeout);
}

void RedisLink::onBytesIn(std::span<const char> bytes) {
  redisReaderFeed(reader_.get(), bytes.data(), bytes.size());
  while (state_ == State::Connected) {
    void* reply = nullptr;
    if (redisReaderGetReply(reader_.get(), &reply) != REDIS_OK) {
      fail("protocol error in reply");
      return;
    }
    if (reply == nullptr) break;
    if (!answered_) onAnswered();
    onReply(static_cast<redisReply*>(reply));
  }
}

/* Under TLS 1.3 the link comes up before the node has checked our
 * certificate, and a node that refuses it says so one round trip later.
 * Counted as restored on the handshake, such a link logged "restored" and
 * "failed" on every attempt (13 times a second to one node in
 * TlsLab.ANodeRefusingTheClientCertificateAfterTheHandshakeIsNeverReady),
 * and a subscription's backoff started again at 100 ms each time. A node
 * that answers has accepted us; plain TCP waits for it too, one round trip
 * more for a log line. */
void RedisLink::onAnswered() {
  answered_ = true;
  logged_tls_failure_.clear();
  backoff_ = std::chrono::milliseconds(100);
  if (logged_down_) {
    healthLog()->info("connection restored address={}", address_.toString());
    logged_down_ = false;
  }
}

void RedisLink::onReply(redisReply* reply) {
  std::unique_ptr<redisReply, void (*)(void*)> owned(reply, freeReplyObject);
  const bool is_push =
      reply->type == REDIS_REPLY_ARRAY && reply->elements >= 3 &&
      reply->element[0]->type == REDIS_REPLY_STRING &&
      std::string_view(reply->element[0]->str, reply->element[0]->len) == "message";
  if (is_push) {
    if (on_message_) {
      on_message_(std::string_view(reply->element[1]->str, reply->element[1]->len),
                  std::string_view(reply->element[2]->str, reply->element[2]->len));
    }
    return;
  }
  const bool is_subscribe_ack =
      reply->type == REDIS_REPLY_ARRAY && reply->elements >= 1 &&
      reply->element[0]->type == REDIS_REPLY_STRING &&
      std::string_view(reply->element[0]->str, reply->element[0]->len) == "subscribe";
  if (is_subscribe_ack) return;
  if (pending_.empty()) return;
  ReplyCallback callback = std::move(pending_.front());
  pending_.pop_front();
  if (pending_.empty()) {
    uv_timer_stop(timer_.get());
  } else {
    armTimer(options_.command_timeout);
  }
  if (callback) callback(reply);
}

void RedisLink::send(const std::vector<std::string>& args) {
  // A refused write shows up as the read error that follows, or as the
  // command timeout.
  (void)link_.sendBytes(encode(args));
}

/* Every failure path ends here: the connection is dropped, callbacks learn
 * their command failed, and a subscription schedules its reconnect. The
 * callbacks run last because they may issue new commands on this link. */
void RedisLink::fail(std::string_view why) {
  const bool was_active = state_ != State::Idle;
  if (was_active && !logged_down_) {
    healthLog()->debug("link down address={} reason=\"{}\"", address_.toString(), why);
    logged_down_ = true;
  }
  link_.close();
  reader_.reset();
  state_ = State::Idle;
  if (timer_) uv_timer_stop(timer_.get());
  auto pending = std::exchange(pending_, {});
  auto queued_callbacks = std::exchange(queued_callbacks_, {});
  queued_.clear();
  // A subscription reconnects with backoff; so does a command link whose
  // failure retrying does not mend (TLS: a refused certificate, a wrong
  // name or CA, a TLS-only port): the pollers' next commands wait for it
  // instead of each making a connection, which was a handshake on the node
  // every 250 ms per replica poll and more (10 a second seen in TlsLab).
  if (!channels_.empty() || std::exchange(retry_later_, false)) {
    scheduleReconnect();
    if (was_active && on_state_ && !channels_.empty()) on_state_(false);
  }
  for (auto& callback : pending) {
    if (callback) callback(nullptr);
  }
  for (auto& callback : queued_callbacks) {
    if (callback) callback(nullptr);
  }
}

void RedisLink::armTimer(std::chrono::milliseconds timeout) {
  uv_timer_start(
      timer_.get(),
      [](uv_timer_t* timer) {
        if (timer->data != nullptr) static_cast<RedisLink*>(timer->data)->onTimer();
      },
      static_cast<uint64_t>(timeout.count()), 0);
}

void RedisLink::onTimer() {
  if (reconnect_pending_) {
    connect();
    return;
  }
  // The connect timeout is the link's own (net::StreamLink).
  if (state_ == State::Connected && !pending_.empty()) {
    fail("command timed out");
  }
}

void RedisLink::scheduleReconnect() {
  reconnect_pending_ = true;
  armTimer(backoff_);
  backoff_ = std::min(backoff_ * 2, kMaxBackoff);
}

}  // namespace rhp::health
