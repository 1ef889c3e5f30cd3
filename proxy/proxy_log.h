#pragma once

#include <spdlog/spdlog.h>

#include <memory>

namespace rhp::proxy {

/* The logger proxy/ writes to; proxy/logging creates it at startup. */
inline constexpr const char* kProxyLogger = "proxy";

inline std::shared_ptr<spdlog::logger> proxyLog() {
  return spdlog::get(kProxyLogger);
}

}  // namespace rhp::proxy
