#include "proxy/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace rhp::proxy {

void setLogLevel(const std::string& level) {
  // spdlog loggers take a new level from any thread.
  for (const char* name : {"proxy", "health", "router", "config"}) {
    if (auto logger = spdlog::get(name)) logger->set_level(spdlog::level::from_str(level));
  }
}

void setupLogging(const std::string& level) {
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  for (const char* name : {"proxy", "health", "router", "config"}) {
    if (spdlog::get(name)) spdlog::drop(name);
    auto logger = std::make_shared<spdlog::logger>(name, sink);
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %-6n %v");
    logger->set_level(spdlog::level::from_str(level));
    logger->flush_on(spdlog::level::info);
    spdlog::register_logger(logger);
  }
}

}  // namespace rhp::proxy
