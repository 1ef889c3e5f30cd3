#include "config/address.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <charconv>
#include <cstring>

namespace rhp::config {

namespace {

bool resolve(const std::string& host, std::uint16_t port, sockaddr_storage& out) {
  std::memset(&out, 0, sizeof(out));
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out);
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    return true;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0 || found == nullptr) return false;
  std::memcpy(&out, found->ai_addr, found->ai_addrlen);
  if (out.ss_family == AF_INET) {
    v4->sin_port = htons(port);
  } else {
    v6->sin6_port = htons(port);
  }
  freeaddrinfo(found);
  return true;
}

std::optional<std::uint16_t> parsePort(std::string_view text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

}  // namespace

std::string Address::toString() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

std::optional<Address> parseAddress(std::string_view text, std::string& error,
                                    bool allow_port_zero) {
  std::string_view host;
  std::string_view port;
  if (text.starts_with('[')) {
    const auto close = text.find("]:");
    if (close == std::string_view::npos) {
      error = "expected [ipv6]:port";
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      error = "expected host:port";
      return std::nullopt;
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host.empty()) {
    error = "the host is empty";
    return std::nullopt;
  }
  const auto parsed_port = parsePort(port);
  if (!parsed_port || (*parsed_port == 0 && !allow_port_zero)) {
    error = "the port must be a number from 1 to 65535";
    return std::nullopt;
  }
  Address address{std::string(host), *parsed_port, {}};
  if (!resolve(address.host, address.port, address.resolved)) {
    error = "cannot resolve host '" + address.host + "'";
    return std::nullopt;
  }
  return address;
}

Address loopbackAddress(std::uint16_t port) {
  Address address{"127.0.0.1", port, {}};
  resolve(address.host, port, address.resolved);
  return address;
}

std::optional<Address> makeAddress(std::string_view host, std::string_view port) {
  std::string error;
  const std::string text = host.find(':') != std::string_view::npos
                               ? "[" + std::string(host) + "]:" + std::string(port)
                               : std::string(host) + ":" + std::string(port);
  return parseAddress(text, error);
}

}  // namespace rhp::config
