#include "config/config_reload.h"

#include <tuple>
#include <utility>

#include "config/config_dump.h"

namespace rhp::config {

namespace {

/* Settings baked into sockets, threads or pool sizes at startup. */
void keepRestartOnlySettings(const Config& running, Config& applied) {
  applied.proxy.listen = running.proxy.listen;
  applied.proxy.workers = running.proxy.workers;
  applied.backend.connections_per_node = running.backend.connections_per_node;
  applied.sentinel.master_name = running.sentinel.master_name;
  applied.admin = running.admin;
  applied.log.json = running.log.json;
}

/* Keys whose value differs between a and b, by their dumped text. */
std::vector<std::pair<std::string, std::string>> differences(const Config& a, const Config& b) {
  const auto before = configEntries(a);
  const auto after = configEntries(b);
  std::vector<std::pair<std::string, std::string>> changed;
  for (std::size_t i = 0; i < before.size() && i < after.size(); ++i) {
    if (before[i].second != after[i].second) {
      changed.emplace_back(before[i].first, before[i].second + " -> " + after[i].second);
    }
  }
  return changed;
}

}  // namespace

ReloadPlan planReload(const Config& running, const Config& next) {
  ReloadPlan plan;
  plan.applied = next;
  keepRestartOnlySettings(running, plan.applied);
  for (const auto& [key, change] : differences(running, plan.applied)) {
    plan.changes.push_back(key + ": " + change);
  }
  // The dump shows a password only as "(set)", so a new one would not show.
  for (const auto& [key, before, after] :
       {std::tuple{"proxy.password", &running.proxy.password, &next.proxy.password},
        std::tuple{"backend.password", &running.backend.password, &next.backend.password},
        std::tuple{"sentinel.password", &running.sentinel.password, &next.sentinel.password}}) {
    if (!before->empty() && !after->empty() && *before != *after) {
      plan.changes.push_back(std::string(key) + ": changed");
    }
  }
  for (const auto& [key, change] : differences(plan.applied, next)) {
    plan.kept_until_restart.push_back(key);
  }
  return plan;
}

}  // namespace rhp::config
