#pragma once

#include <functional>

#include "config/config.h"

namespace rhp::proxy {

/* Loads the configuration again, as at startup (file + command line);
 * throws config::ConfigError. */
using ConfigReloader = std::function<config::Config()>;

/* Runs the proxy until SIGINT or SIGTERM (which drain first; a second one
 * stops at once); SIGHUP reloads through `reload`. The control thread (this
 * one) follows Sentinel, the workers serve clients. Returns the exit code. */
int runServer(const config::Config& config, const ConfigReloader& reload = {});

}  // namespace rhp::proxy
