#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rhp::config {

/* A TCP endpoint as the operator wrote it ("127.0.0.1:6379", "[::1]:6379",
 * "redis-1.internal:6379"), resolved once so the data path never does DNS. */
struct Address {
  std::string host;
  std::uint16_t port = 0;
  sockaddr_storage resolved{};

  std::string toString() const;
  bool operator==(const Address& other) const { return host == other.host && port == other.port; }
};

/* Parses and resolves "host:port". Returns std::nullopt and fills `error`
 * with a sentence naming what is wrong. `allow_port_zero` is for listeners. */
std::optional<Address> parseAddress(std::string_view text, std::string& error,
                                    bool allow_port_zero = false);

/* 127.0.0.1:port, for defaults. */
Address loopbackAddress(std::uint16_t port);

/* Builds an address from a host and port reported by Sentinel or ROLE. */
std::optional<Address> makeAddress(std::string_view host, std::string_view port);

}  // namespace rhp::config
