#pragma once

#include <memory>
#include <string>

#include <spdlog/formatter.h>

namespace rhp::proxy {

/* Creates the named loggers (proxy, health, router, config) on one stderr
 * sink; `level` is a spdlog level name. */
void setupLogging(const std::string& level, bool json = false);
/* One JSON object per line: {"time":"2026-12-01T20:48:33.396Z","level":"info",
 * "logger":"health","message":"..."}, the message escaped as JSON requires. */
std::unique_ptr<spdlog::formatter> makeJsonFormatter();

/* A new level for those loggers (SIGHUP reload); any thread. */
void setLogLevel(const std::string& level);

}  // namespace rhp::proxy
