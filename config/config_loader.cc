#include "config/config_loader.h"

#include "commands/refusal_policy.h"

#include <fmt/format.h>

#include <toml++/toml.h>
#include <algorithm>
#include <array>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>

namespace rhp::config {

namespace {

std::string joinLines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) {
    if (!out.empty()) out += '\n';
    out += line;
  }
  return out;
}

/* Walks one TOML document against the known keys. Each key has a setter that
 * checks the type and range; problems are collected, not thrown, so the
 * operator sees all of them in one run. */
class DocumentReader {
 public:
  DocumentReader(std::string source, Config& config)
      : source_(std::move(source)), config_(config) {}

  void read(const toml::table& root) {
    using Setters =
        std::map<std::string, std::function<void(const toml::node&, const std::string&)>>;
    std::map<std::string, Setters> sections;
    sections["proxy"] = {
        {"listen", [this](auto& n, auto& k) { address(n, k, config_.proxy.listen, true); }},
        {"workers",
         [this](auto& n, auto& k) { integer(n, k, config_.proxy.workers, 0, kMaxWorkers); }},
        {"drain_timeout_ms",
         [this](auto& n, auto& k) { duration(n, k, config_.proxy.drain_timeout, true); }},
        {"max_clients",
         [this](auto& n, auto& k) { integer(n, k, config_.proxy.max_clients, 1, 1'000'000); }},
        {"max_bulk_len",
         [this](auto& n, auto& k) {
           integer(n, k, config_.proxy.max_bulk_len, 1, 4ull * 1024 * 1024 * 1024);
         }},
        {"max_array_len",
         [this](auto& n, auto& k) { integer(n, k, config_.proxy.max_array_len, 1, 0x7fffffffu); }},
        {"databases",
         [this](auto& n, auto& k) { integer(n, k, config_.proxy.databases, 1, 1'000'000); }},
        {"password", [this](auto& n, auto& k) { string(n, k, config_.proxy.password); }},
        {"timeout",
         [this](auto& n, auto& k) { integer(n, k, config_.proxy.timeout, 0, 100'000'000); }},
        {"auth_timeout_ms",
         [this](auto& n, auto& k) { duration(n, k, config_.proxy.auth_timeout, false); }},
        {"client_output_backlog",
         [this](auto& n, auto& k) {
           memory(n, k, config_.proxy.client_output_backlog, 64 * 1024);
         }},
        {"client_output_buffer_limit_pubsub",
         [this](auto& n, auto& k) {
           outputBufferLimit(n, k, config_.proxy.client_output_buffer_limit_pubsub);
         }},
        {"maxmemory_clients",
         [this](auto& n, auto& k) { memory(n, k, config_.proxy.maxmemory_clients, 0); }},
    };
    sections["backend"] = {
        {"connections_per_node",
         [this](auto& n, auto& k) { integer(n, k, config_.backend.connections_per_node, 1, 64); }},
        {"connect_timeout_ms",
         [this](auto& n, auto& k) { duration(n, k, config_.backend.connect_timeout); }},
        {"request_timeout_ms",
         [this](auto& n, auto& k) { duration(n, k, config_.backend.request_timeout); }},
        {"username", [this](auto& n, auto& k) { string(n, k, config_.backend.username); }},
        {"password", [this](auto& n, auto& k) { string(n, k, config_.backend.password); }},
    };
    sections["sentinel"] = {
        {"master_name", [this](auto& n, auto& k) { string(n, k, config_.sentinel.master_name); }},
        {"addresses", [this](auto& n, auto& k) { addressList(n, k, config_.sentinel.addresses); }},
        {"username", [this](auto& n, auto& k) { string(n, k, config_.sentinel.username); }},
        {"password", [this](auto& n, auto& k) { string(n, k, config_.sentinel.password); }},
        {"poll_interval_ms",
         [this](auto& n, auto& k) { duration(n, k, config_.sentinel.poll_interval); }},
        {"connect_timeout_ms",
         [this](auto& n, auto& k) { duration(n, k, config_.sentinel.connect_timeout); }},
        {"command_timeout_ms",
         [this](auto& n, auto& k) { duration(n, k, config_.sentinel.command_timeout); }},
        {"require_sentinel_majority",
         [this](auto& n, auto& k) { boolean(n, k, config_.sentinel.require_sentinel_majority); }},
        {"write_lease_ms",
         [this](auto& n, auto& k) { duration(n, k, config_.sentinel.write_lease, true); }},
    };
    sections["failover"] = {
        {"hold_ms", [this](auto& n, auto& k) { duration(n, k, config_.failover.hold, true); }},
        {"hold_max_bytes",
         [this](auto& n, auto& k) {
           integer(n, k, config_.failover.hold_max_bytes, 0, 1ull << 40);
         }},
    };
    sections["routing"] = {
        {"read_policy", [this](auto& n, auto& k) { readPolicy(n, k); }},
        {"replica_balance", [this](auto& n, auto& k) { balance(n, k); }},
        {"replica_weights", [this](auto& n, auto& k) { weights(n, k); }},
        {"max_replica_lag_ms",
         [this](auto& n, auto& k) { duration(n, k, config_.routing.max_replica_lag); }},
        {"replica_check_interval_ms",
         [this](auto& n, auto& k) { duration(n, k, config_.routing.replica_check_interval); }},
        {"sticky_after_write_ms",
         [this](auto& n, auto& k) { duration(n, k, config_.routing.sticky_after_write, true); }},
        {"allow_commands", [this](auto& n, auto& k) { allowCommands(n, k); }},
    };
    sections["log"] = {
        {"level", [this](auto& n, auto& k) { logLevel(n, k, config_.log.level); }},
        {"format",
         [this](auto& n, auto& k) {
           if (auto index = choice(n, k, {"text", "json"})) config_.log.json = *index == 1;
         }},
    };
    sections["admin"] = {
        {"enabled", [this](auto& n, auto& k) { boolean(n, k, config_.admin.enabled); }},
        {"listen", [this](auto& n, auto& k) { address(n, k, config_.admin.listen, true); }},
        {"token", [this](auto& n, auto& k) { string(n, k, config_.admin.token); }},
        {"max_connections",
         [this](auto& n, auto& k) { integer(n, k, config_.admin.max_connections, 1, 10'000); }},
        {"request_timeout_ms",
         [this](auto& n, auto& k) { duration(n, k, config_.admin.request_timeout); }},
    };

    for (auto&& [section_key, section_node] : root) {
      const std::string section_name(section_key.str());
      const auto found = sections.find(section_name);
      if (found == sections.end()) {
        problem(section_key.source(), section_name, "unknown section");
        continue;
      }
      const auto* table = section_node.as_table();
      if (table == nullptr) {
        problem(section_node.source(), section_name, "must be a table ([" + section_name + "])");
        continue;
      }
      for (auto&& [key, node] : *table) {
        const std::string full = section_name + "." + std::string(key.str());
        const auto setter = found->second.find(std::string(key.str()));
        if (setter == found->second.end()) {
          problem(key.source(), full, "unknown key");
          continue;
        }
        setter->second(node, full);
      }
    }
  }

  std::vector<std::string>& problems() { return problems_; }

 private:
  void problem(const toml::source_region& where, const std::string& key, const std::string& what) {
    problems_.push_back(
        fmt::format("{}:{}:{}: {}: {}", source_, where.begin.line, where.begin.column, key, what));
  }

  template <class Int>
  void integer(const toml::node& node, const std::string& key, Int& out, std::uint64_t min,
               std::uint64_t max) {
    const auto value = node.value<std::int64_t>();
    if (!node.is_integer() || !value) {
      problem(node.source(), key, "must be an integer");
      return;
    }
    if (*value < 0 || static_cast<std::uint64_t>(*value) < min ||
        static_cast<std::uint64_t>(*value) > max) {
      problem(node.source(), key, fmt::format("must be between {} and {}", min, max));
      return;
    }
    out = static_cast<Int>(*value);
  }

  void duration(const toml::node& node, const std::string& key, milliseconds& out,
                bool allow_zero = false) {
    std::uint64_t value = 0;
    const auto before = problems_.size();
    integer(node, key, value, allow_zero ? 0 : 1, 24ull * 3600 * 1000);
    if (problems_.size() == before) out = milliseconds(value);
  }

  /* A byte count: an integer, or a string in redis.conf's units ("16mb"). */
  void memory(const toml::node& node, const std::string& key, std::uint64_t& out,
              std::uint64_t min) {
    std::optional<std::uint64_t> value;
    if (node.is_integer() && *node.value<std::int64_t>() >= 0) {
      value = static_cast<std::uint64_t>(*node.value<std::int64_t>());
    } else if (node.is_string()) {
      value = parseRedisMemory(*node.value<std::string>());
    }
    if (!value) {
      problem(node.source(), key, "must be a size: bytes, or a string like \"16mb\"");
      return;
    }
    if (*value != 0 && *value < min) {
      problem(node.source(), key, fmt::format("must be 0 or at least {} bytes", min));
      return;
    }
    out = *value;
  }

  void outputBufferLimit(const toml::node& node, const std::string& key, OutputBufferLimit& out) {
    std::optional<OutputBufferLimit> value;
    if (node.is_string()) value = parseOutputBufferLimit(*node.value<std::string>());
    if (!value) {
      problem(node.source(), key,
              "must be a string \"<hard> <soft> <soft-seconds>\" as in redis.conf, like "
              "\"32mb 8mb 60\"");
      return;
    }
    out = *value;
  }

  void boolean(const toml::node& node, const std::string& key, bool& out) {
    if (!node.is_boolean()) {
      problem(node.source(), key, "must be true or false");
      return;
    }
    out = *node.value<bool>();
  }

  void string(const toml::node& node, const std::string& key, std::string& out) {
    if (!node.is_string()) {
      problem(node.source(), key, "must be a string");
      return;
    }
    out = *node.value<std::string>();
  }

  void address(const toml::node& node, const std::string& key, Address& out, bool listener) {
    if (!node.is_string()) {
      problem(node.source(), key, "must be a string \"host:port\"");
      return;
    }
    std::string error;
    if (auto parsed = parseAddress(*node.value<std::string>(), error, listener)) {
      out = *parsed;
    } else {
      problem(node.source(), key, "bad address '" + *node.value<std::string>() + "': " + error);
    }
  }

  void addressList(const toml::node& node, const std::string& key, std::vector<Address>& out) {
    const auto* array = node.as_array();
    if (array == nullptr) {
      problem(node.source(), key, "must be an array of \"host:port\" strings");
      return;
    }
    out.clear();
    for (const auto& element : *array) {
      Address parsed;
      const auto before = problems_.size();
      address(element, key, parsed, false);
      if (problems_.size() == before) out.push_back(parsed);
    }
  }

  /* One of `choices`, or a problem naming them all. */
  std::optional<std::size_t> choice(const toml::node& node, const std::string& key,
                                    std::initializer_list<std::string_view> choices) {
    std::string value;
    const auto before = problems_.size();
    string(node, key, value);
    if (problems_.size() != before) return std::nullopt;
    std::size_t index = 0;
    std::string names;
    for (auto candidate : choices) {
      if (value == candidate) return index;
      names += (index++ == 0 ? "" : ", ") + std::string(candidate);
    }
    problem(node.source(), key, "must be one of " + names);
    return std::nullopt;
  }

  void readPolicy(const toml::node& node, const std::string& key) {
    using Policy = Config::Routing::ReadPolicy;
    if (auto index = choice(node, key, {"master", "prefer-replica", "replica"})) {
      config_.routing.read_policy =
          std::array{Policy::Master, Policy::PreferReplica, Policy::Replica}[*index];
    }
  }

  void balance(const toml::node& node, const std::string& key) {
    using Balance = Config::Routing::Balance;
    if (auto index = choice(node, key, {"round-robin", "least-outstanding"})) {
      config_.routing.replica_balance =
          std::array{Balance::RoundRobin, Balance::LeastOutstanding}[*index];
    }
  }

  void weights(const toml::node& node, const std::string& key) {
    const auto* table = node.as_table();
    if (table == nullptr) {
      problem(node.source(), key, "must be a table of \"host:port\" = weight");
      return;
    }
    config_.routing.replica_weights.clear();
    for (auto&& [replica, weight_node] : *table) {
      const std::string entry_key = key + ".\"" + std::string(replica.str()) + "\"";
      std::string error;
      auto address = parseAddress(replica.str(), error);
      if (!address) {
        problem(replica.source(), entry_key, "bad address: " + error);
        continue;
      }
      std::uint32_t weight = 1;
      const auto before = problems_.size();
      integer(weight_node, entry_key, weight, 0, 1000);
      if (problems_.size() == before) config_.routing.replica_weights.push_back({*address, weight});
    }
  }

  void allowCommands(const toml::node& node, const std::string& key) {
    const auto* array = node.as_array();
    if (array == nullptr) {
      problem(node.source(), key, "must be an array of command names");
      return;
    }
    config_.routing.allow_commands.clear();
    for (const auto& element : *array) {
      std::string name;
      const auto before = problems_.size();
      string(element, key, name);
      if (problems_.size() != before) continue;
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      // "config set" and "config|set" both name the subcommand.
      std::replace(name.begin(), name.end(), ' ', '|');
      if (commands::isUnproxyable(name)) {
        problem(element.source(), key,
                "'" + name + "' can never be proxied (it takes over the connection)");
      } else if (commands::isNeverAllowed(name)) {
        problem(element.source(), key,
                "'" + name + "' can never be proxied (it reads or changes credentials)");
      } else if (!commands::isDisabledByDefault(name)) {
        problem(element.source(), key,
                "'" + name + "' is not disabled, so there is nothing to allow");
      } else {
        config_.routing.allow_commands.push_back(name);
      }
    }
  }

  void logLevel(const toml::node& node, const std::string& key, std::string& out) {
    std::string value;
    const auto before = problems_.size();
    string(node, key, value);
    if (problems_.size() != before) return;
    static constexpr std::string_view kLevels[] = {"trace", "debug",    "info", "warn",
                                                   "error", "critical", "off"};
    for (auto level : kLevels) {
      if (value == level) {
        out = value;
        return;
      }
    }
    problem(node.source(), key, "must be one of trace, debug, info, warn, error, critical, off");
  }

  std::string source_;
  Config& config_;
  std::vector<std::string> problems_;
};

void applyOverrides(const CliOverrides& overrides, Config& config,
                    std::vector<std::string>& problems) {
  std::string error;
  if (overrides.listen) {
    if (auto parsed = parseAddress(*overrides.listen, error, true)) {
      config.proxy.listen = *parsed;
    } else {
      problems.push_back("--listen: bad address '" + *overrides.listen + "': " + error);
    }
  }
  if (!overrides.sentinels.empty()) {
    config.sentinel.addresses.clear();
    for (const auto& text : overrides.sentinels) {
      if (auto parsed = parseAddress(text, error)) {
        config.sentinel.addresses.push_back(*parsed);
      } else {
        problems.push_back("--sentinel: bad address '" + text + "': " + error);
      }
    }
  }
  if (overrides.admin_listen) {
    if (auto parsed = parseAddress(*overrides.admin_listen, error, true)) {
      config.admin.listen = *parsed;
      config.admin.enabled = true;
    } else {
      problems.push_back("--admin-listen: bad address '" + *overrides.admin_listen + "': " + error);
    }
  }
  if (overrides.master_name) config.sentinel.master_name = *overrides.master_name;
  if (overrides.log_level) config.log.level = *overrides.log_level;
  if (overrides.workers) config.proxy.workers = *overrides.workers;
}

/* Every configured host name, looked up once (blocking: see HostNames). */
void checkHostNames(const Config& config, std::vector<std::string>& problems) {
  std::vector<std::pair<std::string, const Address*>> named{{"proxy.listen", &config.proxy.listen}};
  if (config.admin.enabled) named.emplace_back("admin.listen", &config.admin.listen);
  for (const auto& address : config.sentinel.addresses) {
    named.emplace_back("sentinel.addresses", &address);
  }
  for (const auto& weight : config.routing.replica_weights) {
    named.emplace_back("routing.replica_weights", &weight.replica);
  }
  for (const auto& [key, address] : named) {
    std::string error;
    if (!resolveBlocking(*address, error)) {
      problems.push_back(key + ": bad address '" + address->toString() + "': " + error);
    }
  }
}

void validate(const Config& config, std::vector<std::string>& problems) {
  if (config.sentinel.addresses.empty()) {
    problems.push_back(
        "sentinel.addresses: no sentinel configured; set it in the file or pass --sentinel "
        "host:port");
  }
  if (config.sentinel.master_name.empty()) {
    problems.push_back("sentinel.master_name: must not be empty");
  }
}

}  // namespace

ConfigError::ConfigError(const std::vector<std::string>& problems)
    : std::runtime_error(joinLines(problems)), problems_(problems) {}

Config loadConfigFromString(const std::string& toml_text, const std::string& source_name,
                            const CliOverrides& overrides, HostNames names) {
  Config config;
  std::vector<std::string> problems;
  try {
    const toml::table root = toml::parse(toml_text, source_name);
    DocumentReader reader(source_name, config);
    reader.read(root);
    problems = std::move(reader.problems());
  } catch (const toml::parse_error& error) {
    const auto& where = error.source().begin;
    problems.push_back(
        fmt::format("{}:{}:{}: {}", source_name, where.line, where.column, error.description()));
  }
  applyOverrides(overrides, config, problems);
  if (problems.empty()) validate(config, problems);
  if (problems.empty() && names == HostNames::Resolve) checkHostNames(config, problems);
  if (!problems.empty()) throw ConfigError(problems);
  return config;
}

Config loadConfig(const std::string& path, const CliOverrides& overrides, HostNames names) {
  if (path.empty()) return loadConfigFromString("", "<defaults>", overrides, names);
  std::ifstream file(path);
  if (!file) throw ConfigError({path + ": cannot open the config file"});
  std::stringstream text;
  text << file.rdbuf();
  return loadConfigFromString(text.str(), path, overrides, names);
}

}  // namespace rhp::config
