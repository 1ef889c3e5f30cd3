// The socket side of ClientSession (declared in client_session.h): reading
// a client's bytes and parsing them where they landed, writing its replies
// out in request order, and closing.
#include <algorithm>

#include "proxy/client_session.h"
#include "proxy/client_writes.h"

namespace rhp::proxy {

void ClientSession::start() {
  uv_tcp_nodelay(tcp_.get(), 1);
  startReading();
}

void ClientSession::startReading() {
  reading_ = true;
  uv_read_start(
      tcp_.stream(),
      [](uv_handle_t* handle, size_t, uv_buf_t* buf) {
        auto* self = static_cast<ClientSession*>(handle->data);
        if (self == nullptr) {
          *buf = uv_buf_init(nullptr, 0);
          return;
        }
        auto& scratch = self->host_.readBuffer();
        *buf = uv_buf_init(scratch.data(), static_cast<unsigned>(scratch.size()));
      },
      [](uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
        if (stream->data != nullptr) static_cast<ClientSession*>(stream->data)->onRead(nread, buf);
      });
}

void ClientSession::onRead(ssize_t nread, const uv_buf_t* buf) {
  if (nread == 0) return;
  if (nread < 0) {
    // The client went away. Requests it already sent still run, as they
    // would on redis-server; their replies are dropped.
    close();
    return;
  }
  const std::string_view chunk(buf->base, static_cast<std::size_t>(nread));
  host_.clock().refresh();  // the arrival time of every request in this chunk
  last_read_ms_ = host_.now();
  host_.metrics().bytes_received.add(chunk.size());
  if (input_.empty()) {
    // Common case: whole requests in the worker's scratch buffer, parsed in
    // place; only an incomplete tail is copied.
    const std::size_t used = process(chunk);
    if (closed_) return;
    if (!input_closed_ && used < chunk.size()) input_.assign(chunk.substr(used));
  } else {
    input_.append(chunk);
    parseBuffered();
    if (closed_) return;
  }
  account();
}

void ClientSession::parseBuffered() {
  const std::size_t used = process(input_);
  if (closed_) return;
  if (input_closed_) {
    input_.clear();
  } else {
    input_.erase(0, used);
  }
  if (input_.empty() && input_.capacity() > kKeptBufferCapacity) input_ = std::string();
}

void ClientSession::closeAfterReplies() {
  if (closed_ || close_after_output_) return;
  input_closed_ = true;
  stopReading();
  close_after_output_ = true;
  scheduleFlush();
}

void ClientSession::takeReady() {
  if (queue_.takeReady()) close_after_output_ = true;
}

void ClientSession::scheduleFlush() {
  if (flush_scheduled_ || closed_) return;
  flush_scheduled_ = true;
  host_.scheduleFlush(*this);
}

void ClientSession::flush() {
  flush_scheduled_ = false;
  if (closed_) return;
  if (!unobserved_.empty()) {
    const std::uint64_t now = host_.clock().micros();  // refreshed at the turn's end
    WorkerMetrics& metrics = host_.metrics();
    for (const auto& [received, backend] : unobserved_) {
      const std::uint64_t total = now - std::min(now, received);
      metrics.latency.observe(total);
      metrics.proxy_latency.observe(total - std::min(total, backend));
    }
    unobserved_.clear();
  }
  std::string& output = queue_.output();
  if (!output.empty()) {
    host_.metrics().bytes_sent.add(output.size());
    const int rc = writeToClient(tcp_.stream(), output, [](uv_write_t* request, int status) {
      auto* self = static_cast<ClientSession*>(request->handle->data);
      if (self == nullptr) return;
      // A failed write (reset, broken pipe) is the client gone; a paused
      // client would not notice it by reading.
      if (status == 0) {
        self->onWritten();
      } else {
        self->close();
      }
    });
    if (rc != 0) {
      close();
      return;
    }
  }
  if (close_after_output_) {
    shutdownAfterWrites(std::move(tcp_));
    close();
    return;
  }
  if (overPubSubLimit(host_.now())) return;
  resumeIfRoom();
  account();
}

void ClientSession::onWritten() {
  if (closed_) return;
  resumeIfRoom();
  account();
}

void ClientSession::stopReading() {
  if (reading_ && tcp_) uv_read_stop(tcp_.stream());
  reading_ = false;
}

void ClientSession::close() {
  if (closed_) return;
  closed_ = true;
  // Requests still out there (in the hold queue, on a backend connection)
  // no longer find their slots; then the ones it owns can go.
  auth_delay_.clear();
  queue_.clear();
  confirmations_due_.clear();
  deferred_.clear();
  dedicated_.shutdown();
  tcp_.reset();
  account();
  host_.onSessionClosed(*this);
}

}  // namespace rhp::proxy
