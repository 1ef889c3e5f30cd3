#include "config/config.h"

#include <thread>

namespace rhp::config {

unsigned Config::effectiveWorkers() const {
  if (proxy.workers != 0) return proxy.workers;
  const unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : cores;
}

}  // namespace rhp::config
