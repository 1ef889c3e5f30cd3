#pragma once

#include <string>

namespace rhp::proxy {

/* Creates the named loggers (proxy, health, router, config) on one stderr
 * sink; `level` is a spdlog level name. */
void setupLogging(const std::string& level);
/* A new level for those loggers (SIGHUP reload); any thread. */
void setLogLevel(const std::string& level);

}  // namespace rhp::proxy
