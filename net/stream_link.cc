#include "net/stream_link.h"

#include <algorithm>
#include <limits>
#include <memory>
#include <stdexcept>

namespace rhp::net {

namespace {

struct WriteBatch {
  uv_write_t request{};
  std::string bytes;
};

StreamLink* ownerOf(void* data) {
  return static_cast<StreamLink*>(data);
}

}  // namespace

StreamLink::StreamLink(uv_loop_t* loop, Owner& owner) : loop_(loop), owner_(owner) {
  if (uv_timer_init(loop_, connect_timer_.allocate()) != 0) {
    connect_timer_.discardUninitialized();
    throw std::runtime_error("uv_timer_init failed");
  }
  connect_timer_->data = this;
}

int StreamLink::connect(const std::string& host, std::uint16_t port,
                        std::chrono::milliseconds timeout) {
  close();
  if (const int rc = uv_tcp_init(loop_, tcp_.allocate()); rc != 0) {
    tcp_.discardUninitialized();
    return rc;
  }
  tcp_->data = this;
  uv_tcp_nodelay(tcp_.get(), 1);
  int error = 0;
  attempt_ = PendingConnect::start(
      tcp_.get(), host, port,
      [this](int status) {
        attempt_ = nullptr;
        onConnected(status);
      },
      error);
  if (attempt_ == nullptr) {
    tcp_.reset();
    return error;
  }
  uv_timer_start(
      connect_timer_.get(),
      [](uv_timer_t* timer) {
        if (timer->data != nullptr) ownerOf(timer->data)->onConnectTimeout();
      },
      static_cast<std::uint64_t>(timeout.count()), 0);
  return 0;
}

void StreamLink::onConnected(int status) {
  uv_timer_stop(connect_timer_.get());
  if (status != 0) {
    down(status);
    return;
  }
  connected_ = true;
  uv_read_start(
      tcp_.stream(),
      [](uv_handle_t* handle, size_t, uv_buf_t* buf) {
        if (handle->data == nullptr) {
          *buf = uv_buf_init(nullptr, 0);
          return;
        }
        const std::span<char> room = ownerOf(handle->data)->owner_.readRoom();
        *buf = uv_buf_init(room.data(), static_cast<unsigned>(std::min<std::size_t>(
                                            room.size(), std::numeric_limits<unsigned>::max())));
      },
      [](uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
        if (stream->data == nullptr || nread == 0) return;
        if (nread < 0) {
          ownerOf(stream->data)->onRead(nread);
          return;
        }
        ownerOf(stream->data)->owner_.onBytesIn({buf->base, static_cast<std::size_t>(nread)});
      });
  owner_.onLinkUp();
}

void StreamLink::onConnectTimeout() {
  if (attempt_ != nullptr) down(UV_ETIMEDOUT);
}

void StreamLink::onRead(ssize_t nread) {
  down(static_cast<int>(nread));
}

void StreamLink::down(int status) {
  close();
  owner_.onLinkDown(status);
}

int StreamLink::sendBytes(std::string bytes) {
  if (!connected_) return UV_ENOTCONN;
  auto batch = std::make_unique<WriteBatch>();
  batch->bytes = std::move(bytes);
  uv_buf_t buf = uv_buf_init(batch->bytes.data(), static_cast<unsigned>(batch->bytes.size()));
  batch->request.data = batch.get();
  const int rc = uv_write(&batch->request, tcp_.stream(), &buf, 1, [](uv_write_t* request, int) {
    // Runs with UV_ECANCELED after a close: touch nothing but the batch.
    std::unique_ptr<WriteBatch> done(static_cast<WriteBatch*>(request->data));
  });
  if (rc == 0) batch.release();
  return rc;
}

void StreamLink::close() {
  if (attempt_ != nullptr) {
    attempt_->cancel();  // before the handle closes: see PendingConnect::cancel
    attempt_ = nullptr;
  }
  if (connect_timer_) uv_timer_stop(connect_timer_.get());
  tcp_.reset();
  connected_ = false;
}

}  // namespace rhp::net
