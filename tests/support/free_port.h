#pragma once

#include <cstdint>

namespace rhp::test {

/* A loopback port nobody listens on and no other test process will be
 * handed until this process exits.
 *
 * Ports come from 20000-32767, below Linux's ephemeral range, so outgoing
 * connections never take one between this call and the server's bind.
 * Each is claimed with an flock on a file under /tmp/rhp-test-ports held
 * for the process's lifetime: ctest runs test binaries side by side, and
 * asking the kernel for a free port (bind to 0, close) lets two of them get
 * the same one. The lock goes away with the process, so a crashed test
 * leaks nothing. */
std::uint16_t freePort();

}  // namespace rhp::test
