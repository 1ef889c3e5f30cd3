// The socket side of ClientSession (declared in client_session.h): reading
// a client's bytes and parsing them where they landed, writing its replies
// out in request order, and closing.
#include <algorithm>

#include "proxy/client_session.h"

namespace rhp::proxy {

void ClientSession::start() {
  startReading();
}

void ClientSession::startReading() {
  reading_ = true;
  stream_.startReading();
}

void ClientSession::onTlsFailure(net::TlsFailure failure, std::string_view reason,
                                 std::string_view peer) {
  host_.onClientTlsFailure(failure, reason, peer);
}

void ClientSession::onStreamBytes(std::string_view chunk) {
  if (closed_) return;
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
    // A failed write (reset, broken pipe) is the client gone: the stream
    // ends it, as a paused client would not notice it by reading.
    if (stream_.write(output) != 0) {
      close();
      return;
    }
  }
  if (close_after_output_) {
    stream_.shutdownAfterWrites();
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
  if (reading_) stream_.stopReading();
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
  stream_.close();
  account();
  host_.onSessionClosed(*this);
}

}  // namespace rhp::proxy
