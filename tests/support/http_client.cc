#include "tests/support/http_client.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace rhp::test {

HttpResponse httpExchange(std::uint16_t port, std::string_view request,
                          std::chrono::milliseconds timeout) {
  HttpResponse response;
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return response;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return response;
  }
  while (!request.empty()) {
    const ssize_t sent = ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    if (sent <= 0) break;
    request.remove_prefix(static_cast<std::size_t>(sent));
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buffer[16384];
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd waiting{fd, POLLIN, 0};
    if (poll(&waiting, 1, static_cast<int>(left.count())) <= 0) break;
    const ssize_t got = ::recv(fd, buffer, sizeof(buffer), 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      response.closed = true;
      break;
    }
    response.raw.append(buffer, static_cast<std::size_t>(got));
  }
  ::close(fd);
  // "HTTP/1.1 200 OK\r\n...\r\n\r\nbody"
  if (response.raw.starts_with("HTTP/1.") && response.raw.size() > 12) {
    response.status = std::atoi(response.raw.substr(9, 3).c_str());
  }
  const auto body = response.raw.find("\r\n\r\n");
  if (body != std::string::npos) response.body = response.raw.substr(body + 4);
  return response;
}

HttpResponse httpGet(std::uint16_t port, const std::string& path) {
  return httpExchange(port,
                      "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
}

PromtoolVerdict promtoolCheckMetrics(const std::string& exposition, const std::string& work_dir) {
  const std::string input = work_dir + "/metrics-" + std::to_string(getpid()) + ".txt";
  std::ofstream(input) << exposition;
  PromtoolVerdict verdict;
  const std::string command = "promtool check metrics < '" + input + "' 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return verdict;
  char buffer[4096];
  while (const std::size_t got = fread(buffer, 1, sizeof(buffer), pipe)) {
    verdict.output.append(buffer, got);
  }
  const int status = pclose(pipe);
  verdict.accepted = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  std::remove(input.c_str());
  return verdict;
}

double sampleValue(const std::string& exposition, const std::string& series) {
  std::size_t at = 0;
  while ((at = exposition.find(series + " ", at)) != std::string::npos) {
    if (at == 0 || exposition[at - 1] == '\n') {
      return std::stod(exposition.substr(at + series.size() + 1));
    }
    ++at;
  }
  return -1;
}

}  // namespace rhp::test
