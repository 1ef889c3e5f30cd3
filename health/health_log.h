#pragma once

#include <spdlog/spdlog.h>

#include <memory>

namespace rhp::health {

/* The logger health/ writes to; proxy/logging creates it at startup. */
inline constexpr const char* kHealthLogger = "health";

inline std::shared_ptr<spdlog::logger> healthLog() {
  return spdlog::get(kHealthLogger);
}

}  // namespace rhp::health
