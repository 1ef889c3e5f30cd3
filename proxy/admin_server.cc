#include "proxy/admin_server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <stdexcept>

#include "proxy/http_request.h"

namespace rhp::proxy {

namespace {

/* A request's headers beyond this are refused: nothing legitimate sends
 * more to these three paths. */
constexpr std::size_t kMaxRequestBytes = 8192;

const char* reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

struct WriteRequest {
  uv_write_t request{};
  std::string bytes;
};

}  // namespace

struct AdminServer::Connection {
  AdminServer* server = nullptr;
  net::UvHandle<uv_tcp_t> tcp;
  std::string received;
  bool answered = false;
  char buffer[2048];
};

AdminServer::AdminServer(uv_loop_t* loop, Handler handler)
    : loop_(loop), handler_(std::move(handler)) {}

AdminServer::~AdminServer() {
  stop();
}

void AdminServer::listen(const config::Address& address) {
  if (uv_tcp_init(loop_, listener_.allocate()) != 0) {
    listener_.discardUninitialized();
    throw std::runtime_error("uv_tcp_init failed for the admin listener");
  }
  listener_->data = this;
  int rc = uv_tcp_bind(listener_.get(), reinterpret_cast<const sockaddr*>(&address.resolved), 0);
  if (rc == 0) {
    rc = uv_listen(listener_.stream(), 64, [](uv_stream_t* server, int status) {
      if (server->data != nullptr) static_cast<AdminServer*>(server->data)->onAccept(status);
    });
  }
  if (rc != 0) {
    listener_.reset();
    throw std::runtime_error(
        fmt::format("cannot listen on admin address {}: {}", address.toString(), uv_strerror(rc)));
  }
  sockaddr_storage bound{};
  int length = sizeof(bound);
  uv_tcp_getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&bound), &length);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
}

void AdminServer::stop() {
  listener_.reset();
  connections_.clear();
}

void AdminServer::onAccept(int status) {
  if (status != 0) return;
  auto connection = std::make_unique<Connection>();
  if (uv_tcp_init(loop_, connection->tcp.allocate()) != 0) {
    connection->tcp.discardUninitialized();
    return;
  }
  if (uv_accept(listener_.stream(), connection->tcp.stream()) != 0) return;
  Connection* raw = connection.get();
  raw->server = this;
  raw->tcp->data = raw;
  connections_.emplace(raw, std::move(connection));
  uv_read_start(
      raw->tcp.stream(),
      [](uv_handle_t* handle, size_t, uv_buf_t* buf) {
        auto* self = static_cast<Connection*>(handle->data);
        if (self == nullptr) {
          *buf = uv_buf_init(nullptr, 0);
          return;
        }
        *buf = uv_buf_init(self->buffer, sizeof(self->buffer));
      },
      [](uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
        auto* reader = static_cast<Connection*>(stream->data);
        if (reader != nullptr) reader->server->onRead(*reader, nread, buf);
      });
}

void AdminServer::onRead(Connection& connection, ssize_t nread, const uv_buf_t* buf) {
  if (nread < 0) {
    drop(connection);
    return;
  }
  if (connection.answered) return;
  connection.received.append(buf->base, static_cast<std::size_t>(nread));
  const HttpRequest request = parseHttpRequest(connection.received, kMaxRequestBytes);
  switch (request.status) {
    case HttpRequest::Status::NeedMore:
      return;
    case HttpRequest::Status::Malformed:
      answer(connection, 400, "text/plain; charset=utf-8", "malformed HTTP request\n", false);
      return;
    case HttpRequest::Status::Complete:
      break;
  }
  const bool head = request.method == "HEAD";
  if (request.method != "GET" && !head) {
    answer(connection, 405, "text/plain; charset=utf-8", "only GET and HEAD are served\n", head);
    return;
  }
  const Response response = handler_(request.path);
  answer(connection, response.status, response.content_type, response.body, head);
}

void AdminServer::answer(Connection& connection, int status, const std::string& content_type,
                         const std::string& body, bool head) {
  connection.answered = true;
  uv_read_stop(connection.tcp.stream());
  auto write = std::make_unique<WriteRequest>();
  write->bytes = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
      status, reason(status), content_type, body.size());
  if (!head) write->bytes += body;
  uv_buf_t buf = uv_buf_init(write->bytes.data(), static_cast<unsigned>(write->bytes.size()));
  write->request.data = write.get();
  const int rc =
      uv_write(&write->request, connection.tcp.stream(), &buf, 1, [](uv_write_t* req, int) {
        std::unique_ptr<WriteRequest> done(static_cast<WriteRequest*>(req->data));
        // data is cleared when the connection was dropped meanwhile.
        auto* written = static_cast<Connection*>(req->handle->data);
        if (written != nullptr) written->server->drop(*written);
      });
  if (rc != 0) {
    drop(connection);
    return;
  }
  write.release();
}

void AdminServer::drop(Connection& connection) {
  // Closing the handle cancels nothing we still need: the answer was written.
  connections_.erase(&connection);
}

}  // namespace rhp::proxy
