#include "config/config_reload.h"

#include "config/config_keys.h"

namespace rhp::config {

ReloadPlan planReload(const Config& running, const Config& next) {
  ReloadPlan plan;
  plan.applied = next;
  for (const Key& key : configKeys()) {
    if (key.same(running, next)) continue;
    const std::string name(key.name);
    if (key.apply == Apply::Restart) {
      key.copy(running, plan.applied);
      plan.kept_until_restart.push_back(name);
      continue;
    }
    const auto before = key.show(running);
    const auto after = key.show(next);
    // A secret shows only whether it is set, so a new one is only named.
    plan.changes.push_back(before == after ? name + ": changed"
                                           : name + ": " + before + " -> " + after);
  }
  return plan;
}

}  // namespace rhp::config
