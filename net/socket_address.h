#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>

namespace rhp::net {

/* `host` as an IPv4 or IPv6 literal ("10.0.0.7", "::1"), with `port`, or
 * std::nullopt for a name. Never asks DNS: this is what Sentinel reports
 * unless announce-hostnames is on, and it is safe on any event loop. */
std::optional<sockaddr_storage> numericAddress(const std::string& host, std::uint16_t port);

/* Sets the port of an AF_INET or AF_INET6 address. */
void setPort(sockaddr_storage& address, std::uint16_t port);

/* "10.0.0.7:51234", "[::1]:51234": a peer's address for a log line; "?"
 * for another family. */
std::string describeAddress(const sockaddr_storage& address);

}  // namespace rhp::net
