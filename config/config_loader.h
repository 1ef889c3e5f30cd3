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

/* Reads `path` (may be empty: defaults only), applies `overrides`, validates. */
Config loadConfig(const std::string& path, const CliOverrides& overrides);

/* Same, from TOML text; `source_name` is used in error messages. */
Config loadConfigFromString(const std::string& toml_text, const std::string& source_name,
                            const CliOverrides& overrides);

}  // namespace rhp::config
