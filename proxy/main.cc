#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <iostream>

#include "config/config_loader.h"
#include "proxy/logging.h"
#include "proxy/server.h"
#include "proxy/version.h"

namespace {

constexpr int kExitConfigError = 2;

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "redis-ha-proxy: one stable Redis address in front of a Sentinel-watched master.\n"
      "Clients connect here; writes follow the master across failovers."};
  std::string config_path;
  rhp::config::CliOverrides overrides;
  bool check_only = false;
  std::string listen;
  std::string master_name;
  std::string log_level;
  unsigned workers = 0;
  app.add_option("-c,--config", config_path, "TOML config file (see examples/redis-ha-proxy.toml)");
  app.add_option("--listen", listen,
                 "address clients connect to, host:port (default 127.0.0.1:6380)");
  std::string admin_listen;
  app.add_option("--admin-listen", admin_listen,
                 "admin HTTP address for /metrics, /healthz, /readyz (default 127.0.0.1:9380)");
  app.add_option("--sentinel", overrides.sentinels,
                 "sentinel address host:port; repeat for each sentinel (replaces the file's list)");
  app.add_option("--master-name", master_name, "name the sentinels monitor the master under");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, critical or off");
  app.add_option("--workers", workers, "worker threads (0: one per core)");
  app.add_flag("--check-config", check_only, "validate the configuration and exit");
  app.set_version_flag("-V,--version", std::string("redis-ha-proxy ") + rhp::kVersion);
  CLI11_PARSE(app, argc, argv);

  if (!listen.empty()) overrides.listen = listen;
  if (!admin_listen.empty()) overrides.admin_listen = admin_listen;
  if (!master_name.empty()) overrides.master_name = master_name;
  if (!log_level.empty()) overrides.log_level = log_level;
  if (app.count("--workers") > 0) overrides.workers = workers;

  rhp::config::Config config;
  try {
    config = rhp::config::loadConfig(config_path, overrides);
  } catch (const rhp::config::ConfigError& error) {
    for (const auto& problem : error.problems()) std::cerr << "config error: " << problem << "\n";
    return kExitConfigError;
  }
  if (check_only) {
    std::cout << "configuration OK\n";
    return 0;
  }
  try {
    rhp::proxy::setupLogging(config.log.level, config.log.json);
  } catch (const spdlog::spdlog_ex& error) {
    std::cerr << "cannot set up logging: " << error.what() << "\n";
    return 1;
  }
  // SIGHUP reads the same file with the same flags on top. It runs on the
  // control loop, so it asks no DNS (config/config_loader.h, HostNames).
  auto reload = [config_path, overrides] {
    return rhp::config::loadConfig(config_path, overrides, rhp::config::HostNames::SyntaxOnly);
  };
  return rhp::proxy::runServer(config, reload);
}
