#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>

namespace rhp::test {

/* A node that accepts one connection, answers its first command (the
 * login's AUTH) with +OK, and then answers nothing: a node that stopped
 * (SIGSTOP, a partition) just after it accepted the login. */
class SilentAfterAuthNode {
 public:
  SilentAfterAuthNode() {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in where{};
    where.sin_family = AF_INET;
    where.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof where;
    if (bind(listener_, reinterpret_cast<sockaddr*>(&where), length) != 0 ||
        listen(listener_, 1) != 0 ||
        getsockname(listener_, reinterpret_cast<sockaddr*>(&where), &length) != 0) {
      throw std::runtime_error("listener");
    }
    port_ = ntohs(where.sin_port);
    thread_ = std::thread([this] {
      const int fd = accept(listener_, nullptr, nullptr);
      if (fd < 0) return;
      std::string in;
      char buffer[512];
      while (in.find("\r\np\r\n") == std::string::npos) {
        const ssize_t n = read(fd, buffer, sizeof buffer);
        if (n <= 0) break;
        in.append(buffer, static_cast<std::size_t>(n));
      }
      (void)!write(fd, "+OK\r\n", 5);
      while (!stop_) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      ::close(fd);
    });
  }
  ~SilentAfterAuthNode() {
    stop_ = true;
    ::shutdown(listener_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    ::close(listener_);
  }
  std::uint16_t port() const { return port_; }

 private:
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace rhp::test
