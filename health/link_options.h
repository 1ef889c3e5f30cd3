#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "config/config.h"
#include "health/health_log.h"
#include "health/redis_link.h"
#include "net/tls_context.h"

namespace rhp::health {

/* A TLS context for `settings` (section "backend" or "sentinel"), read
 * again on every reload, changed or not: that is how rotated certificate
 * files are taken up; links already up keep theirs. A file that no longer
 * loads keeps `current`, said at error level (net::reloadTlsContext). */
inline std::shared_ptr<const net::TlsClientContext> reloadLinkTls(
    const net::TlsClientSettings& settings, std::shared_ptr<const net::TlsClientContext> current,
    std::string_view section) {
  std::string error;
  auto next = net::reloadTlsContext(settings.enabled, settings, std::move(current), error);
  if (!error.empty()) {
    healthLog()->error("{}.tls: cannot load, the previous certificates stay in force: {}", section,
                       error);
  }
  return next;
}

/* The control plane's links to the sentinels, from the config; their TLS
 * failures are counted in `tls_failures`. */
inline RedisLink::Options sentinelLinkOptions(const config::Config& config,
                                              const RedisLink::Options& current,
                                              TlsFailureCounts& tls_failures) {
  return {config.sentinel.connect_timeout,
          config.sentinel.command_timeout,
          config.sentinel.username,
          config.sentinel.password,
          reloadLinkTls(config.sentinel.tls, current.tls, "sentinel"),
          &tls_failures};
}

/* The control plane's links to the redis nodes (ROLE, INFO, COMMAND): the
 * backend's credentials and TLS, the sentinel's command timeout. */
inline RedisLink::Options nodeLinkOptions(const config::Config& config,
                                          const RedisLink::Options& current,
                                          TlsFailureCounts& tls_failures) {
  return {config.backend.connect_timeout,
          config.sentinel.command_timeout,
          config.backend.username,
          config.backend.password,
          reloadLinkTls(config.backend.tls, current.tls, "backend"),
          &tls_failures};
}

}  // namespace rhp::health
