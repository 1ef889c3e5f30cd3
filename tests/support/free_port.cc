#include "tests/support/free_port.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mutex>
#include <random>
#include <stdexcept>
#include <string>

namespace rhp::test {

namespace {

constexpr std::uint16_t kFirstPort = 20000;
constexpr std::uint16_t kLastPort = 32767;
constexpr const char* kLockDir = "/tmp/rhp-test-ports";

bool bindable(std::uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  // Redis and the proxy set SO_REUSEADDR, so a port whose last user is in
  // TIME_WAIT is fine for them; without it here such ports would be skipped
  // and never handed out again.
  const int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  close(fd);
  return ok;
}

/* Takes the port's lock for the rest of the process; the descriptor is
 * kept open on purpose (closing it would release the lock). */
bool claim(std::uint16_t port) {
  const std::string path = std::string(kLockDir) + "/" + std::to_string(port);
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) return false;
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    close(fd);
    return false;
  }
  return true;
}

}  // namespace

std::uint16_t freePort() {
  static std::mutex mutex;
  const std::lock_guard lock(mutex);
  static std::minstd_rand next(static_cast<unsigned>(getpid()) * 2654435761u);
  mkdir(kLockDir, 01777);
  constexpr unsigned span = kLastPort - kFirstPort + 1;
  const unsigned start = next() % span;
  for (unsigned i = 0; i < span; ++i) {
    const auto port = static_cast<std::uint16_t>(kFirstPort + (start + i) % span);
    if (claim(port) && bindable(port)) return port;
  }
  throw std::runtime_error(std::string("no free loopback port left in 20000-32767 (locks in ") +
                           kLockDir + ")");
}

}  // namespace rhp::test
