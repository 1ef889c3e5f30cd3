#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/address.h"

namespace rhp::proxy {

/* Opens `count` listening sockets on one address with SO_REUSEPORT, so each
 * worker accepts on its own socket and the kernel spreads connections.
 * Port 0 is resolved by the first socket and reused by the others.
 * Throws std::runtime_error naming the address and the OS error. */
std::vector<int> openListenSockets(const config::Address& address, unsigned count,
                                   std::uint16_t& bound_port);

}  // namespace rhp::proxy
