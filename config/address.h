#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rhp::config {

/* A TCP endpoint as the operator or Sentinel wrote it ("127.0.0.1:6379",
 * "[::1]:6379", "redis-1.internal:6379"). It holds no resolved address: an
 * IP literal needs no DNS, and a name is looked up asynchronously each time
 * a connection is made (net/tcp_connect.h), so no event loop waits for DNS
 * and a name that moves to another IP is followed on the next connect. */
struct Address {
  std::string host;
  std::uint16_t port = 0;

  std::string toString() const;
  bool operator==(const Address& other) const { return host == other.host && port == other.port; }
};

/* Parses "host:port" without asking DNS. Returns std::nullopt and fills
 * `error` with a sentence naming what is wrong. `allow_port_zero` is for
 * listeners. */
std::optional<Address> parseAddress(std::string_view text, std::string& error,
                                    bool allow_port_zero = false);

/* 127.0.0.1:port, for defaults. */
Address loopbackAddress(std::uint16_t port);

/* Builds an address from a host and port reported by Sentinel or ROLE.
 * Runs on the control loop, so it never asks DNS. */
std::optional<Address> makeAddress(std::string_view host, std::string_view port);

/* The socket address for `address`, asking DNS (blocking getaddrinfo) for a
 * name: only for startup and --check-config, never on a running loop (a
 * silent DNS server holds it up to 10 s with glibc's defaults). Listeners
 * bind with it; the loader checks names with it at startup. */
std::optional<sockaddr_storage> resolveBlocking(const Address& address, std::string& error);

}  // namespace rhp::config
