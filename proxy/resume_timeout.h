#pragma once

#include <cstdint>

#include "proxy/request.h"

namespace rhp::proxy {

/* A blocking request sent again after its connection was lost (to the new
 * master after a failover) waits only what was left of its timeout, as if
 * it had never moved: BLPOP k 10 that waited 4 s on the old master asks the
 * new one for 6 s. Rewrites the timeout argument in the payload; a timeout
 * already spent becomes 1 ms, so Redis gives its own timeout answer (or the
 * element that arrived meanwhile). 0 (for ever) stays 0. */
void resumeTimeout(Request& request, std::uint64_t now_ms);

}  // namespace rhp::proxy
