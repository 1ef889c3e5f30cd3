#include "health/redis_link.h"

#include "commands/resp_array.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace rhp::health {

namespace {

constexpr std::chrono::milliseconds kMaxBackoff{2000};

std::shared_ptr<spdlog::logger> logger() {
  return spdlog::get("health");
}

std::string encode(const std::vector<std::string>& args) {
  std::string out;
  commands::appendCommand(out, args);
  return out;
}

struct WriteBatch {
  uv_write_t request{};
  std::string bytes;
};

}  // namespace

RedisLink::RedisLink(uv_loop_t* loop, config::Address address, Options options)
    : loop_(loop), address_(std::move(address)), options_(std::move(options)) {
  if (uv_timer_init(loop_, timer_.allocate()) != 0) {
    timer_.discardUninitialized();
    throw std::runtime_error("uv_timer_init failed");
  }
  timer_->data = this;
}

RedisLink::~RedisLink() {
  if (attempt_ != nullptr) attempt_->cancel();
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
  if (uv_tcp_init(loop_, tcp_.allocate()) != 0) {
    tcp_.discardUninitialized();
    scheduleReconnect();
    return;
  }
  tcp_->data = this;
  uv_tcp_nodelay(tcp_.get(), 1);
  int error = 0;
  attempt_ = net::PendingConnect::start(
      tcp_.get(), address_.resolved,
      [this](int status) {
        attempt_ = nullptr;
        onConnected(status);
      },
      error);
  state_ = State::Connecting;
  if (attempt_ == nullptr) {
    fail(uv_strerror(error));
    return;
  }
  armTimer(options_.connect_timeout);
}

void RedisLink::onConnected(int status) {
  if (status != 0) {
    fail(uv_strerror(status));
    return;
  }
  state_ = State::Connected;
  backoff_ = std::chrono::milliseconds(100);
  if (logged_down_) {
    logger()->info("connection restored address={}", address_.toString());
    logged_down_ = false;
  }
  reader_.reset(redisReaderCreate());
  uv_timer_stop(timer_.get());
  uv_read_start(
      tcp_.stream(),
      [](uv_handle_t* handle, size_t, uv_buf_t* buf) {
        auto* link = static_cast<RedisLink*>(handle->data);
        *buf = link != nullptr ? uv_buf_init(link->read_buffer_.data(),
                                             static_cast<unsigned>(link->read_buffer_.size()))
                               : uv_buf_init(nullptr, 0);
      },
      [](uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
        if (stream->data != nullptr) static_cast<RedisLink*>(stream->data)->onRead(nread, buf);
      });
  if (!options_.password.empty()) {
    std::vector<std::string> auth{"AUTH"};
    if (!options_.username.empty()) auth.push_back(options_.username);
    auth.push_back(options_.password);
    send(auth);
    pending_.push_front([this](const redisReply* reply) {
      if (reply != nullptr && reply->type == REDIS_REPLY_ERROR) {
        logger()->error("authentication failed address={} error=\"{}\"", address_.toString(),
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

void RedisLink::onRead(ssize_t nread, const uv_buf_t* buf) {
  if (nread == 0) return;
  if (nread < 0) {
    fail(nread == UV_EOF ? "connection closed by peer" : uv_strerror(static_cast<int>(nread)));
    return;
  }
  redisReaderFeed(reader_.get(), buf->base, static_cast<size_t>(nread));
  while (state_ == State::Connected) {
    void* reply = nullptr;
    if (redisReaderGetReply(reader_.get(), &reply) != REDIS_OK) {
      fail("protocol error in reply");
      return;
    }
    if (reply == nullptr) break;
    onReply(static_cast<redisReply*>(reply));
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
  auto batch = std::make_unique<WriteBatch>();
  batch->bytes = encode(args);
  uv_buf_t buf = uv_buf_init(batch->bytes.data(), static_cast<unsigned>(batch->bytes.size()));
  batch->request.data = batch.get();
  if (uv_write(&batch->request, tcp_.stream(), &buf, 1, [](uv_write_t* request, int) {
        std::unique_ptr<WriteBatch> done(static_cast<WriteBatch*>(request->data));
      }) == 0) {
    batch.release();
  }
}

/* Every failure path ends here: the connection is dropped, callbacks learn
 * their command failed, and a subscription schedules its reconnect. The
 * callbacks run last because they may issue new commands on this link. */
void RedisLink::fail(const char* why) {
  const bool was_active = state_ != State::Idle;
  if (was_active && !logged_down_) {
    logger()->debug("link down address={} reason=\"{}\"", address_.toString(), why);
    logged_down_ = true;
  }
  if (attempt_ != nullptr) {
    attempt_->cancel();
    attempt_ = nullptr;
  }
  tcp_.reset();
  reader_.reset();
  state_ = State::Idle;
  if (timer_) uv_timer_stop(timer_.get());
  auto pending = std::exchange(pending_, {});
  auto queued_callbacks = std::exchange(queued_callbacks_, {});
  queued_.clear();
  if (!channels_.empty()) {
    scheduleReconnect();
    if (was_active && on_state_) on_state_(false);
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
  if (state_ == State::Connecting) {
    fail("connect timed out");
  } else if (state_ == State::Connected && !pending_.empty()) {
    fail("command timed out");
  }
}

void RedisLink::scheduleReconnect() {
  reconnect_pending_ = true;
  armTimer(backoff_);
  backoff_ = std::min(backoff_ * 2, kMaxBackoff);
}

}  // namespace rhp::health
