#include "tests/support/resp_client.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

#include <cerrno>
#include <csignal>
#include <memory>

namespace rhp::test {

RespClient::RespClient(std::uint16_t port, std::chrono::milliseconds timeout, const Tls* tls) {
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{};
  tv.tv_sec = timeout.count() / 1000;
  tv.tv_usec = (timeout.count() % 1000) * 1000;
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  const int on = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) close();
  if (tls != nullptr && fd_ >= 0) startTls(*tls);
}

/* Blocking OpenSSL on the socket, with the socket's timeouts: a test
 * client, not the proxy's way (net/tls_session.h). */
void RespClient::startTls(const Tls& tls) {
  // SSL_write writes the socket itself, without MSG_NOSIGNAL: a proxy that
  // closed the connection must fail the write, not kill the test binary.
  std::signal(SIGPIPE, SIG_IGN);
  tls_context_.reset(SSL_CTX_new(TLS_client_method()));
  SSL_CTX* context = tls_context_.get();
  SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nullptr);
  bool ok = SSL_CTX_load_verify_locations(context, tls.ca_cert_file.c_str(), nullptr) == 1;
  if (ok && !tls.cert_file.empty()) {
    ok = SSL_CTX_use_certificate_chain_file(context, tls.cert_file.c_str()) == 1 &&
         SSL_CTX_use_PrivateKey_file(context, tls.key_file.c_str(), SSL_FILETYPE_PEM) == 1;
  }
  if (ok) {
    tls_.reset(SSL_new(context));
    SSL_set_fd(tls_.get(), fd_);
    ok = SSL_connect(tls_.get()) == 1;
  }
  if (!ok) {
    char text[256] = "handshake failed";
    if (const unsigned long code = ERR_peek_last_error()) {
      ERR_error_string_n(code, text, sizeof(text));
    }
    tls_error_ = text;
    ERR_clear_error();
    tls_.reset();
    close();
  }
}

ssize_t RespClient::receive(char* into, std::size_t size) {
  if (tls_ == nullptr) return ::recv(fd_, into, size, 0);
  const int got = SSL_read(tls_.get(), into, static_cast<int>(size));
  if (got > 0) return got;
  ERR_clear_error();
  return SSL_get_error(tls_.get(), got) == SSL_ERROR_ZERO_RETURN ? 0 : -1;
}

RespClient::~RespClient() {
  close();
}

void RespClient::close() {
  tls_.reset();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void RespClient::sendRaw(std::string_view bytes) {
  while (fd_ >= 0 && !bytes.empty()) {
    const ssize_t sent = tls_ != nullptr
                             ? SSL_write(tls_.get(), bytes.data(), static_cast<int>(bytes.size()))
                             : ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent <= 0) {
      if (sent < 0 && errno == EINTR) continue;
      return;
    }
    bytes.remove_prefix(static_cast<std::size_t>(sent));
  }
}

namespace {

/* Where the reply starting at `at` ends, or npos while incomplete; nullopt
 * if the bytes are no RESP. Written apart from the proxy's framer (and
 * recursive, which is fine for a test's depths) so that the two check each
 * other. */
std::optional<std::size_t> replyEnd(const std::string& in, std::size_t at) {
  constexpr std::size_t kIncomplete = std::string::npos;
  const std::size_t crlf = in.find("\r\n", at);
  if (at >= in.size() || crlf == std::string::npos) return kIncomplete;
  const char type = in[at];
  const std::string line = in.substr(at + 1, crlf - at - 1);
  std::size_t next = crlf + 2;
  switch (type) {
    case '+':
    case '-':
    case ':':
    case ',':
    case '(':
    case '#':
    case '_':
      return next;
    case '$':
    case '!':
    case '=': {
      const long long length = std::stoll(line);
      if (length < 0) return next;
      const std::size_t end = next + static_cast<std::size_t>(length) + 2;
      return end <= in.size() ? end : kIncomplete;
    }
    case '*':
    case '~':
    case '>':
    case '%':
    case '|': {
      long long count = std::stoll(line);
      if (count < 0) return next;
      if (type == '%' || type == '|') count *= 2;
      if (type == '|') ++count;  // the value the attribute annotates
      for (long long i = 0; i < count; ++i) {
        const auto end = replyEnd(in, next);
        if (!end || *end == kIncomplete) return end;
        next = *end;
      }
      return next;
    }
    default:
      return std::nullopt;
  }
}

}  // namespace

std::optional<std::string> RespClient::readReply() {
  while (true) {
    const auto end =
        buffer_.empty() ? std::optional<std::size_t>(std::string::npos) : replyEnd(buffer_, 0);
    if (!end) return std::nullopt;
    if (*end != std::string::npos) {
      std::string out = buffer_.substr(0, *end);
      buffer_.erase(0, *end);
      return out;
    }
    if (fd_ < 0) return std::nullopt;
    char chunk[65536];
    const ssize_t got = receive(chunk, sizeof(chunk));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return std::nullopt;
    buffer_.append(chunk, static_cast<std::size_t>(got));
  }
}

std::string RespClient::call(const std::vector<std::string>& args) {
  sendRaw(encode(args));
  return readReply().value_or("");
}

bool RespClient::waitForClose() {
  char chunk[4096];
  while (fd_ >= 0) {
    const ssize_t got = receive(chunk, sizeof(chunk));
    // A close with our bytes still unread by the server comes as a reset.
    if (got == 0 || (got < 0 && errno == ECONNRESET)) return true;
    if (got < 0 && errno != EINTR) return false;
  }
  return false;
}

std::string RespClient::encode(const std::vector<std::string>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const auto& arg : args) out += "$" + std::to_string(arg.size()) + "\r\n" + arg + "\r\n";
  return out;
}

std::string RespClient::valueOf(const std::string& reply) {
  if (reply.starts_with('+') || reply.starts_with(':')) return reply.substr(1, reply.size() - 3);
  if (reply.starts_with('$') && !reply.starts_with("$-1")) {
    const auto header_end = reply.find("\r\n");
    return reply.substr(header_end + 2, reply.size() - header_end - 4);
  }
  return "";
}

}  // namespace rhp::test
