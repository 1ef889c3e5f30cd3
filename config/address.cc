#include "config/address.h"

#include <netdb.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "net/socket_address.h"

namespace rhp::config {

namespace {

std::optional<std::uint16_t> parsePort(std::string_view text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

/* Letters, digits, '-', '.' (RFC 1123) and '_' (seen in service names), at
 * most 253 characters (RFC 1035): what a resolver may be asked for. */
bool isHostName(std::string_view host) {
  if (host.size() > 253) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_';
  });
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
  Address address{std::string(host), *parsed_port};
  if (!net::numericAddress(address.host, address.port) && !isHostName(address.host)) {
    error = "the host is neither an IP address nor a host name";
    return std::nullopt;
  }
  return address;
}

Address loopbackAddress(std::uint16_t port) {
  return Address{"127.0.0.1", port};
}

std::optional<Address> makeAddress(std::string_view host, std::string_view port) {
  std::string error;
  const std::string text = host.find(':') != std::string_view::npos
                               ? "[" + std::string(host) + "]:" + std::string(port)
                               : std::string(host) + ":" + std::string(port);
  return parseAddress(text, error);
}

std::optional<sockaddr_storage> resolveBlocking(const Address& address, std::string& error) {
  if (auto numeric = net::numericAddress(address.host, address.port)) return numeric;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(address.host.c_str(), nullptr, &hints, &found);
  if (rc != 0 || found == nullptr) {
    error = "cannot resolve host '" + address.host + "'";
    if (found != nullptr) freeaddrinfo(found);
    return std::nullopt;
  }
  sockaddr_storage out{};
  std::memcpy(&out, found->ai_addr, std::min<std::size_t>(found->ai_addrlen, sizeof(out)));
  freeaddrinfo(found);
  net::setPort(out, address.port);
  return out;
}

}  // namespace rhp::config
