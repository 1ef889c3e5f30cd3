#pragma once

#include <cstdint>

#include "proxy/request.h"

namespace rhp::proxy {

/* A blocking request about to be sent: the first time, its clock starts;
 * sent again after its connection was lost (to the new master after a
 * failover), it waits only what is left of its timeout, counted from the
 * first sending, as if it had never moved: BLPOP k 10 sent 4 s ago (on the
 * old master, then held behind the write fence) asks the new one for 6 s.
 * Rewrites the timeout argument in the payload; a timeout already spent
 * becomes 1 ms, so Redis gives its own timeout answer (or the element that
 * arrived meanwhile). 0 (for ever) stays 0. */
void resumeTimeout(Request& request, std::uint64_t now_ms);

}  // namespace rhp::proxy
