#include "proxy/client_session.h"

#include <spdlog/spdlog.h>

#include "proxy/errors.h"
#include "proxy/worker.h"
#include "router/route_policy.h"

namespace rhp::proxy {

namespace {

/* Past this many reply bytes queued in the kernel-side write queue we stop
 * reading the client's requests until it reads its replies: a client that
 * pipelines without reading must not grow our memory without bound. */
constexpr std::size_t kMaxOutputBacklog = 16 * 1024 * 1024;

struct WriteBatch {
  uv_write_t request{};
  std::string bytes;
};

struct ShutdownRequest {
  uv_shutdown_t request{};
  net::UvHandle<uv_tcp_t> tcp;  // closed once the pending replies are out
};

std::string encodeArray(const RequestParser& parser, std::string_view in) {
  std::string out = "*" + std::to_string(parser.argc()) + "\r\n";
  for (std::size_t i = 0; i < parser.argc(); ++i) {
    const std::string_view arg = parser.arg(in, i);
    out += "$" + std::to_string(arg.size()) + "\r\n";
    out += arg;
    out += "\r\n";
  }
  return out;
}

struct ArgContext {
  const RequestParser* parser;
  std::string_view in;
};

}  // namespace

void deliverReply(Request& request, std::string_view reply) {
  if (request.session != nullptr) request.session->complete(*request.slot, reply);
}

ClientSession::ClientSession(Worker& worker, net::UvHandle<uv_tcp_t> tcp)
    : worker_(worker),
      tcp_(std::move(tcp)),
      parser_(
          ParserLimits{worker.config().proxy.max_bulk_len, worker.config().proxy.max_array_len}) {
  tcp_->data = this;
  state_.authenticated = worker.config().proxy.password.empty();
}

ClientSession::~ClientSession() {
  close();
}

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
        auto& scratch = self->worker_.readBuffer();
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
  if (input_.empty()) {
    // Common case: whole requests in the worker's scratch buffer, parsed in
    // place; only an incomplete tail is copied.
    const std::size_t used = process(chunk);
    if (!input_closed_ && used < chunk.size()) input_.assign(chunk.substr(used));
  } else {
    input_.append(chunk);
    const std::size_t used = process(input_);
    if (input_closed_) {
      input_.clear();
    } else {
      input_.erase(0, used);
    }
  }
}

std::size_t ClientSession::process(std::string_view in) {
  std::size_t offset = 0;
  while (offset < in.size() && !input_closed_) {
    const std::string_view request_bytes = in.substr(offset);
    const auto result = parser_.parse(request_bytes);
    if (result == RequestParser::Result::NeedMore) break;
    if (result == RequestParser::Result::ProtocolError) {
      spdlog::get("proxy")->debug("client protocol error: {}", parser_.error());
      answerNow(parser_.error(), true);
      return in.size();
    }
    if (parser_.argc() > 0) handleRequest(request_bytes);
    offset += parser_.frameLength();
    parser_.reset();
  }
  return offset;
}

void ClientSession::handleRequest(std::string_view request_bytes) {
  ArgContext context{&parser_, request_bytes};
  router::RouteRequest route_request;
  route_request.name = parser_.arg(request_bytes, 0);
  route_request.subcommand =
      parser_.argc() > 1 ? parser_.arg(request_bytes, 1) : std::string_view{};
  route_request.argc = parser_.argc();
  route_request.args = {&context, [](const void* raw, std::size_t index) {
                          const auto* ctx = static_cast<const ArgContext*>(raw);
                          return ctx->parser->arg(ctx->in, index);
                        }};
  const router::Route route = router::pickRoute(route_request);

  if (!state_.authenticated && route.local != router::LocalCommand::Auth &&
      route.local != router::LocalCommand::Hello && route.local != router::LocalCommand::Quit) {
    answerNow(errors::kNoAuth);
    return;
  }
  switch (route.target) {
    case router::TargetKind::Local: {
      LocalAnswer answer = answerLocally(route.local, route_request.args, route_request.argc,
                                         state_, worker_.config().proxy);
      answerNow(answer.reply, answer.close_after);
      return;
    }
    case router::TargetKind::Refused:
      answerNow(refusalReply(route.refusal, route_request.name));
      return;
    case router::TargetKind::Master:
      break;
  }
  auto request = std::make_unique<Request>();
  request->payload = parser_.isInline()
                         ? encodeArray(parser_, request_bytes)
                         : std::string(request_bytes.substr(0, parser_.frameLength()));
  request->db = state_.db;
  request->retry_safe = route.spec != nullptr && route.spec->has(router::kReadOnly) &&
                        !route.spec->has(router::kBlocking);
  request->session = this;
  slots_.emplace_back();
  request->slot = &slots_.back();
  slots_.back().request = request.get();
  worker_.dispatchToMaster(std::move(request));
}

void ClientSession::answerNow(std::string_view reply, bool close_after) {
  if (close_after) {
    input_closed_ = true;
    stopReading();
  }
  if (slots_.empty()) {
    output_.append(reply);
    close_after_output_ = close_after_output_ || close_after;
    scheduleFlush();
    return;
  }
  Slot& slot = slots_.emplace_back();
  slot.reply.assign(reply);
  slot.ready = true;
  slot.close_after = close_after;
}

void ClientSession::complete(Slot& slot, std::string_view reply) {
  slot.request = nullptr;
  if (&slot == &slots_.front()) {
    output_.append(reply);
    slots_.pop_front();
    takeReady();
  } else {
    slot.reply.assign(reply);
    slot.ready = true;
  }
  scheduleFlush();
}

void ClientSession::takeReady() {
  while (!slots_.empty() && slots_.front().ready) {
    output_.append(slots_.front().reply);
    const bool close_after = slots_.front().close_after;
    slots_.pop_front();
    if (close_after) {
      close_after_output_ = true;
      break;
    }
  }
}

void ClientSession::scheduleFlush() {
  if (flush_scheduled_ || closed_) return;
  flush_scheduled_ = true;
  worker_.scheduleFlush(*this);
}

void ClientSession::flush() {
  flush_scheduled_ = false;
  if (closed_) return;
  if (!output_.empty()) {
    std::size_t written = 0;
    // Try the write right away: usually the socket takes it all and no
    // write request or buffer copy is needed.
    if (uv_stream_get_write_queue_size(tcp_.stream()) == 0) {
      uv_buf_t direct = uv_buf_init(output_.data(), static_cast<unsigned>(output_.size()));
      const int rc = uv_try_write(tcp_.stream(), &direct, 1);
      if (rc > 0) written = static_cast<std::size_t>(rc);
    }
    if (written == output_.size()) {
      output_.clear();
    } else {
      auto batch = std::make_unique<WriteBatch>();
      batch->bytes.assign(output_, written);
      output_.clear();
      uv_buf_t buf = uv_buf_init(batch->bytes.data(), static_cast<unsigned>(batch->bytes.size()));
      batch->request.data = batch.get();
      const int rc =
          uv_write(&batch->request, tcp_.stream(), &buf, 1, [](uv_write_t* request, int status) {
            std::unique_ptr<WriteBatch> done(static_cast<WriteBatch*>(request->data));
            auto* self = static_cast<ClientSession*>(request->handle->data);
            if (self != nullptr && status == 0) self->onWritten();
          });
      if (rc != 0) {
        close();
        return;
      }
      batch.release();
      if (!paused_for_backlog_ && reading_ &&
          uv_stream_get_write_queue_size(tcp_.stream()) > kMaxOutputBacklog) {
        paused_for_backlog_ = true;
        uv_read_stop(tcp_.stream());
      }
    }
  }
  if (close_after_output_) {
    // Let the queued replies leave, then close: uv_shutdown completes after
    // pending writes, uv_close would cancel them.
    auto shutdown = std::make_unique<ShutdownRequest>();
    shutdown->request.data = shutdown.get();
    uv_tcp_t* raw = tcp_.get();
    shutdown->tcp = std::move(tcp_);
    raw->data = nullptr;
    if (uv_shutdown(&shutdown->request, reinterpret_cast<uv_stream_t*>(raw),
                    [](uv_shutdown_t* request, int) {
                      std::unique_ptr<ShutdownRequest> done(
                          static_cast<ShutdownRequest*>(request->data));
                    }) == 0) {
      shutdown.release();
    }
    close();
  }
}

void ClientSession::onWritten() {
  if (paused_for_backlog_ &&
      uv_stream_get_write_queue_size(tcp_.stream()) <= kMaxOutputBacklog / 2) {
    paused_for_backlog_ = false;
    if (reading_ && !input_closed_) startReading();
  }
}

void ClientSession::stopReading() {
  if (reading_ && tcp_) uv_read_stop(tcp_.stream());
  reading_ = false;
}

void ClientSession::close() {
  if (closed_) return;
  closed_ = true;
  for (auto& slot : slots_) {
    if (slot.request != nullptr) {
      slot.request->session = nullptr;
      slot.request->slot = nullptr;
    }
  }
  slots_.clear();
  tcp_.reset();
  worker_.onSessionClosed(*this);
}

}  // namespace rhp::proxy
