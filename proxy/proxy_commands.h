#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "config/config.h"
#include "health/topology.h"
#include "proxy/metrics.h"
#include "router/route_policy.h"

namespace rhp::proxy {

/* What the proxy shows of itself over RESP: PROXY INFO, PROXY TOPOLOGY,
 * PROXY CONFIG GET, and the "# Proxy" section appended to INFO. Built by a
 * worker from its topology snapshot and every worker's counters (atomics,
 * read in place). */
struct ProxyView {
  const config::Config* config = nullptr;
  const health::Topology* topology = nullptr;
  std::span<const WorkerMetrics* const> workers;
  std::uint32_t clients_open = 0;
  std::uint64_t uptime_seconds = 0;
  bool write_lease_valid = true;
};

/* INFO-style "key:value" lines under "# Proxy", CRLF-terminated. */
std::string proxyInfoSection(const ProxyView& view);

/* The RESP reply to PROXY <subcommand> [args]. */
std::string answerProxyCommand(const commands::ArgAccess& args, std::size_t argc,
                               const ProxyView& view);

/* `reply` is a bulk string (INFO's answer): the same with `section`
 * appended after a blank line; anything else (an error) unchanged. */
std::string appendToBulk(std::string_view reply, std::string_view section);

}  // namespace rhp::proxy
