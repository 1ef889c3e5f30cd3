#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "health/sentinel_monitor.h"
#include "health/topology.h"
#include "proxy/metrics.h"

namespace rhp::proxy {

/* What one scrape reads. Gathered on the control thread: the workers'
 * counters are read in place (atomics), the rest belongs to that thread. */
struct MetricsInputs {
  std::vector<const WorkerMetrics*> workers;
  std::uint32_t clients_open = 0;
  const health::Topology* topology = nullptr;
  health::SentinelMonitor::Stats control;
  double start_time_seconds = 0;  // Unix time the process started
  std::string version;
};

/* The Prometheus text exposition format (version 0.0.4). */
std::string renderMetrics(const MetricsInputs& inputs);

}  // namespace rhp::proxy
