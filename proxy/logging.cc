#include "proxy/logging.h"

#include <fmt/chrono.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <array>
#include <chrono>
#include <ctime>
#include <iterator>

#include "health/health_log.h"
#include "proxy/proxy_log.h"

namespace rhp::proxy {

namespace {

// Every logger the proxy writes to; "config" reports loading and reloads.
constexpr std::array<const char*, 3> kLoggers{kProxyLogger, health::kHealthLogger, "config"};

}  // namespace

void setLogLevel(const std::string& level) {
  // spdlog loggers take a new level from any thread.
  for (const char* name : kLoggers) {
    if (auto logger = spdlog::get(name)) logger->set_level(spdlog::level::from_str(level));
  }
}

namespace {

void put(spdlog::memory_buf_t& out, std::string_view text) {
  out.append(text.data(), text.data() + text.size());
}

void appendJsonString(std::string_view text, spdlog::memory_buf_t& out) {
  out.push_back('"');
  for (const char c : text) {
    switch (c) {
      case '"':
        put(out, "\\\"");
        break;
      case '\\':
        put(out, "\\\\");
        break;
      case '\n':
        put(out, "\\n");
        break;
      case '\r':
        put(out, "\\r");
        break;
      case '\t':
        put(out, "\\t");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& message, spdlog::memory_buf_t& out) override {
    const auto since_epoch = message.time.time_since_epoch();
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
    const auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds).count();
    const std::time_t time = static_cast<std::time_t>(seconds.count());
    std::tm utc{};
    gmtime_r(&time, &utc);
    fmt::format_to(std::back_inserter(out),
                   "{{\"time\":\"{:%Y-%m-%dT%H:%M:%S}.{:03}Z\",\"level\":", utc, millis);
    const auto level = spdlog::level::to_string_view(message.level);
    appendJsonString(std::string_view(level.data(), level.size()), out);
    put(out, ",\"logger\":");
    appendJsonString(std::string_view(message.logger_name.data(), message.logger_name.size()), out);
    put(out, ",\"message\":");
    appendJsonString(std::string_view(message.payload.data(), message.payload.size()), out);
    put(out, "}\n");
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

}  // namespace

std::unique_ptr<spdlog::formatter> makeJsonFormatter() {
  return std::make_unique<JsonFormatter>();
}

void setupLogging(const std::string& level, bool json) {
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  if (json) {
    sink->set_formatter(makeJsonFormatter());
    sink->set_color_mode(spdlog::color_mode::never);
  }
  for (const char* name : kLoggers) {
    if (spdlog::get(name)) spdlog::drop(name);
    auto logger = std::make_shared<spdlog::logger>(name, sink);
    if (!json) logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %-6n %v");
    logger->set_level(spdlog::level::from_str(level));
    logger->flush_on(spdlog::level::info);
    spdlog::register_logger(logger);
  }
}

}  // namespace rhp::proxy
