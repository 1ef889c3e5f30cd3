#include "config/config_loader.h"

#include <fmt/format.h>

#include <toml++/toml.h>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include "config/config_keys.h"
#include "net/tls_context.h"
#include "net/tls_server_context.h"

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

/* A value in the TOML document, read for one key. */
class TomlValue final : public ValueReader {
 public:
  TomlValue(const toml::node& node, std::string key, const std::string& source,
            std::vector<std::string>& problems)
      : node_(node), key_(std::move(key)), source_(source), problems_(problems) {}

  using ValueReader::string;

  std::optional<std::uint64_t> integer(std::uint64_t min, std::uint64_t max) override {
    // The type first: toml++'s value<int64_t>() of a float casts it, and
    // 9e99 does not fit (undefined behaviour; found by the fuzzer).
    const auto value = node_.is_integer() ? node_.value<std::int64_t>() : std::nullopt;
    if (!value) {
      problem("must be an integer");
      return std::nullopt;
    }
    if (*value < 0 || static_cast<std::uint64_t>(*value) < min ||
        static_cast<std::uint64_t>(*value) > max) {
      problem(fmt::format("must be between {} and {}", min, max));
      return std::nullopt;
    }
    return static_cast<std::uint64_t>(*value);
  }

  std::optional<std::uint64_t> memory(std::uint64_t min) override {
    std::optional<std::uint64_t> value;
    if (node_.is_integer() && *node_.value<std::int64_t>() >= 0) {
      value = static_cast<std::uint64_t>(*node_.value<std::int64_t>());
    } else if (node_.is_string()) {
      value = parseRedisMemory(*node_.value<std::string>());
    }
    if (!value) {
      problem("must be a size: bytes, or a string like \"16mb\"");
      return std::nullopt;
    }
    if (*value != 0 && *value < min) {
      problem(fmt::format("must be 0 or at least {} bytes", min));
      return std::nullopt;
    }
    return value;
  }

  std::optional<bool> boolean() override {
    if (!node_.is_boolean()) {
      problem("must be true or false");
      return std::nullopt;
    }
    return *node_.value<bool>();
  }

  std::optional<std::string> string(std::string_view expected) override {
    if (!node_.is_string()) {
      problem(fmt::format("must be {}", expected));
      return std::nullopt;
    }
    return *node_.value<std::string>();
  }

  std::optional<std::size_t> choice(std::span<const std::string_view> choices) override {
    const auto value = string();
    if (!value) return std::nullopt;
    std::string names;
    for (std::size_t index = 0; index < choices.size(); ++index) {
      if (*value == choices[index]) return index;
      names += (index == 0 ? "" : ", ") + std::string(choices[index]);
    }
    problem("must be one of " + names);
    return std::nullopt;
  }

  std::optional<std::vector<std::unique_ptr<ValueReader>>> elements(
      std::string_view expected) override {
    const auto* array = node_.as_array();
    if (array == nullptr) {
      problem(fmt::format("must be {}", expected));
      return std::nullopt;
    }
    std::vector<std::unique_ptr<ValueReader>> out;
    for (const auto& element : *array) {
      out.push_back(std::make_unique<TomlValue>(element, key_, source_, problems_));
    }
    return out;
  }

  std::optional<std::vector<Entry>> entries(std::string_view expected) override {
    const auto* table = node_.as_table();
    if (table == nullptr) {
      problem(fmt::format("must be {}", expected));
      return std::nullopt;
    }
    std::vector<Entry> out;
    for (auto&& [name, value] : *table) {
      out.push_back(
          {std::string(name.str()),
           std::make_unique<TomlValue>(value, key_ + ".\"" + std::string(name.str()) + "\"",
                                       source_, problems_)});
    }
    return out;
  }

  void problem(const std::string& what) override {
    const auto& where = node_.source().begin;
    problems_.push_back(
        fmt::format("{}:{}:{}: {}: {}", source_, where.line, where.column, key_, what));
  }

 private:
  const toml::node& node_;
  std::string key_;
  const std::string& source_;
  std::vector<std::string>& problems_;
};

/* Walks one TOML document against configKeys(). Problems are collected, not
 * thrown, so the operator sees all of them in one run. */
void readDocument(const toml::table& root, const std::string& source, Config& config,
                  std::vector<std::string>& problems) {
  auto report = [&](const toml::source_region& where, const std::string& key,
                    const std::string& what) {
    problems.push_back(
        fmt::format("{}:{}:{}: {}: {}", source, where.begin.line, where.begin.column, key, what));
  };
  std::map<std::string, const Key*, std::less<>> keys;
  std::set<std::string, std::less<>> sections;
  for (const Key& key : configKeys()) {
    keys.emplace(key.name, &key);
    sections.emplace(key.name.substr(0, key.name.find('.')));
  }
  for (auto&& [section_key, section_node] : root) {
    const std::string section(section_key.str());
    if (!sections.contains(section)) {
      report(section_key.source(), section, "unknown section");
      continue;
    }
    const auto* table = section_node.as_table();
    if (table == nullptr) {
      report(section_node.source(), section, "must be a table ([" + section + "])");
      continue;
    }
    for (auto&& [name, node] : *table) {
      const std::string full = section + "." + std::string(name.str());
      const auto found = keys.find(full);
      if (found == keys.end()) {
        report(name.source(), full, "unknown key");
        continue;
      }
      TomlValue value(node, full, source, problems);
      found->second->read(value, config);
    }
  }
}

void applyOverrides(const CliOverrides& overrides, Config& config,
                    std::vector<std::string>& problems) {
  std::string error;
  if (overrides.listen) {
    if (auto parsed = parseAddress(*overrides.listen, error, true)) {
      config.proxy.listen = parsed;
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
  std::vector<std::pair<std::string, const Address*>> named;
  if (config.proxy.listen) named.emplace_back("proxy.listen", &*config.proxy.listen);
  if (config.proxy.tls_listen) named.emplace_back("proxy.tls_listen", &*config.proxy.tls_listen);
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
  if (config.proxy.auth == AuthMode::Passthrough &&
      (!config.proxy.password.empty() || !config.proxy.users.empty())) {
    // Two sources of truth for one password would disagree silently.
    problems.push_back(
        "proxy.auth = \"passthrough\": the nodes check clients' passwords; leave proxy.password "
        "and proxy.users empty");
  }
}

/* Each TLS context is built once here, so a missing file, a key that does
 * not match its certificate or an expired certificate stops startup,
 * --check-config and a reload (which then keeps the settings in force)
 * with OpenSSL's reason, instead of failing every connection later. Local
 * files only: fast enough for a reload on the control loop. */
void checkTls(const Config& config, std::vector<std::string>& problems) {
  const std::pair<std::string_view, const net::TlsClientSettings*> sections[] = {
      {"backend", &config.backend.tls}, {"sentinel", &config.sentinel.tls}};
  for (const auto& [section, settings] : sections) {
    if (!settings->enabled) continue;
    try {
      const net::TlsClientContext context(*settings);
    } catch (const std::exception& error) {
      problems.push_back(fmt::format("{}.tls: {}", section, error.what()));
    }
  }
  if (!config.proxy.listen && !config.proxy.tls_listen) {
    problems.push_back("proxy.listen and proxy.tls_listen are both off: clients need one");
  }
  if (config.proxy.tls_listen) {
    try {
      const net::TlsServerContext context(config.proxy.tls);
    } catch (const std::exception& error) {
      problems.push_back(fmt::format("proxy.tls_listen: {}", error.what()));
    }
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
    readDocument(root, source_name, config, problems);
  } catch (const toml::parse_error& error) {
    const auto& where = error.source().begin;
    problems.push_back(
        fmt::format("{}:{}:{}: {}", source_name, where.line, where.column, error.description()));
  }
  applyOverrides(overrides, config, problems);
  if (problems.empty()) validate(config, problems);
  if (problems.empty()) checkTls(config, problems);
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
