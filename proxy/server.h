#pragma once

#include "config/config.h"

namespace rhp::proxy {

/* Runs the proxy until SIGINT or SIGTERM: the control thread (this one)
 * follows Sentinel, the workers serve clients. Returns the exit code. */
int runServer(const config::Config& config);

}  // namespace rhp::proxy
