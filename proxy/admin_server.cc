#include "proxy/admin_server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "proxy/http_request.h"
#include "proxy/proxy_log.h"
#include "proxy/same_secret.h"

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
    case 401:
      return "Unauthorized";
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
  std::uint64_t accepted_ms = 0;
  std::uint64_t sequence = 0;  // accept order (loop time is the same for a burst)
  bool answered = false;
  char buffer[2048];
};

AdminServer::AdminServer(uv_loop_t* loop, Handler handler, const config::Config::Admin& settings)
    : loop_(loop), handler_(std::move(handler)), settings_(settings) {}

AdminServer::~AdminServer() {
  stop();
}

void AdminServer::listen(const config::Address& address) {
  if (uv_tcp_init(loop_, listener_.allocate()) != 0) {
    listener_.discardUninitialized();
    throw std::runtime_error("uv_tcp_init failed for the admin listener");
  }
  listener_->data = this;
  // Called once at startup, before the control loop runs: a name may be
  // looked up with blocking getaddrinfo here.
  std::string error;
  const auto resolved = config::resolveBlocking(address, error);
  int rc = resolved ? uv_tcp_bind(listener_.get(), reinterpret_cast<const sockaddr*>(&*resolved), 0)
                    : UV_EAI_NONAME;
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
  if (uv_timer_init(loop_, sweeper_.allocate()) != 0) {
    sweeper_.discardUninitialized();
    throw std::runtime_error("uv_timer_init failed for the admin endpoint");
  }
  sweeper_->data = this;
  // A tenth of the timeout (at most 1 s): a connection lives at most 10%
  // past it.
  const auto every = static_cast<std::uint64_t>(
      std::clamp<std::int64_t>(settings_.request_timeout.count() / 10, 1, 1000));
  uv_timer_start(
      sweeper_.get(),
      [](uv_timer_t* timer) {
        if (timer->data != nullptr) static_cast<AdminServer*>(timer->data)->sweep();
      },
      every, every);
  uv_unref(sweeper_.base());  // does not keep the control loop alive by itself
}

void AdminServer::stop() {
  listener_.reset();
  sweeper_.reset();
  connections_.clear();
}

void AdminServer::sweep() {
  const std::uint64_t now = uv_now(loop_);
  const auto timeout = static_cast<std::uint64_t>(settings_.request_timeout.count());
  std::vector<Connection*> expired;
  for (const auto& [raw, connection] : connections_) {
    if (now - raw->accepted_ms >= timeout) expired.push_back(raw);
  }
  for (Connection* connection : expired) drop(*connection);
  if (connections_.size() < settings_.max_connections) at_cap_ = false;
}

bool AdminServer::makeRoom() {
  Connection* oldest = nullptr;
  for (const auto& [raw, connection] : connections_) {
    // One still waiting for its request goes first: an answer being
    // written is a scrape about to finish.
    const bool better = oldest == nullptr || (oldest->answered && !raw->answered) ||
                        (oldest->answered == raw->answered && raw->sequence < oldest->sequence);
    if (better) oldest = raw;
  }
  if (oldest == nullptr) return false;
  if (!at_cap_) {
    at_cap_ = true;
    proxyLog()->warn(
        "admin endpoint: {} connections open (admin.max_connections); closing the oldest for "
        "each new one until fewer are open",
        connections_.size());
  }
  drop(*oldest);
  return true;
}

void AdminServer::onAccept(int status) {
  if (status != 0) return;
  while (connections_.size() >= settings_.max_connections && makeRoom()) {
  }
  auto connection = std::make_unique<Connection>();
  if (uv_tcp_init(loop_, connection->tcp.allocate()) != 0) {
    connection->tcp.discardUninitialized();
    return;
  }
  if (uv_accept(listener_.stream(), connection->tcp.stream()) != 0) return;
  Connection* raw = connection.get();
  raw->server = this;
  raw->tcp->data = raw;
  raw->accepted_ms = uv_now(loop_);
  raw->sequence = ++accepted_;
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
  if (!settings_.token.empty()) {
    constexpr std::string_view kScheme = "Bearer ";
    const std::string_view given = request.authorization;
    if (!given.starts_with(kScheme) || !sameSecret(given.substr(kScheme.size()), settings_.token)) {
      answer(connection, 401, "text/plain; charset=utf-8",
             "this endpoint needs \"Authorization: Bearer <admin.token>\"\n", head);
      return;
    }
  }
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
      "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n{}Connection: close\r\n\r\n",
      status, reason(status), content_type, body.size(),
      status == 401 ? "WWW-Authenticate: Bearer\r\n" : "");
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
