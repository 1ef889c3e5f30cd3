#include "config/config.h"

#include <thread>

namespace rhp::config {

unsigned effectiveWorkers(unsigned configured) {
  if (configured != 0) return configured;
  const unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : cores;
}

unsigned Config::effectiveWorkers() const {
  return config::effectiveWorkers(proxy.workers);
}

}  // namespace rhp::config
