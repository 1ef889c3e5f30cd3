#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/config.h"

namespace rhp::config {

/* Thrown only while loading, at startup: every problem found, one per line,
 * each naming file:line:column and the key. */
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(const std::vector<std::string>& problems);
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::vector<std::string> problems_;
};

/* Command-line values; each one set replaces the file's value. */
struct CliOverrides {
  std::optional<std::string> listen;
  std::optional<std::string> admin_listen;
  std::vector<std::string> sentinels;
  std::optional<std::string> master_name;
  std::optional<std::string> log_level;
  std::optional<unsigned> workers;
};

/* Whether the loader asks DNS that each host name resolves. Startup and
 * --check-config do (blocking getaddrinfo: no loop runs yet). A SIGHUP
 * reload runs on the control loop, which must not wait for DNS (a silent
 * server holds getaddrinfo up to 10 s, and failover handling with it), so it
 * checks only the syntax; a name that does not resolve then fails its
 * connects, as an unreachable host does. */
enum class HostNames { Resolve, SyntaxOnly };

/* Reads `path` (may be empty: defaults only), applies `overrides`, validates. */
Config loadConfig(const std::string& path, const CliOverrides& overrides,
                  HostNames names = HostNames::Resolve);

/* Same, from TOML text; `source_name` is used in error messages. */
Config loadConfigFromString(const std::string& toml_text, const std::string& source_name,
                            const CliOverrides& overrides, HostNames names = HostNames::Resolve);

}  // namespace rhp::config
