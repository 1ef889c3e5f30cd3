#include "proxy/listen_socket.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "net/socket_address.h"

namespace rhp::proxy {

namespace {

int openOne(sockaddr_storage address, const std::string& text) {
  const int fd = socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket(): " + std::string(std::strerror(errno)));
  const int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on));
  const socklen_t length =
      address.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&address), length) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    throw std::runtime_error("cannot listen on " + text + ": " + why +
                             " (is another process using the port? see proxy.listen)");
  }
  return fd;
}

std::uint16_t portOf(int fd) {
  sockaddr_storage bound{};
  socklen_t length = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
  if (bound.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
}

}  // namespace

std::vector<int> openListenSockets(const config::Address& address, unsigned count,
                                   std::uint16_t& bound_port) {
  std::vector<int> fds;
  // Startup only (runServer binds before the loops run), so a name may be
  // looked up here with blocking getaddrinfo.
  std::string error;
  auto resolved = config::resolveBlocking(address, error);
  if (!resolved) throw std::runtime_error("cannot listen on " + address.toString() + ": " + error);
  sockaddr_storage target = *resolved;
  try {
    for (unsigned i = 0; i < count; ++i) {
      fds.push_back(openOne(target, address.toString()));
      if (i == 0) {
        bound_port = portOf(fds.front());
        net::setPort(target, bound_port);
      }
    }
  } catch (...) {
    for (int fd : fds) ::close(fd);
    throw;
  }
  return fds;
}

}  // namespace rhp::proxy
