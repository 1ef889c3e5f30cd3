#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace rhp::config {

/* What a SIGHUP reload does with a newly read file. */
struct ReloadPlan {
  /* The file's settings, except those only a restart can change (the keys
   * config_keys.cc marks Apply::Restart: listen and admin addresses, worker
   * count, connections per node, master name, log format), which keep their
   * running values. */
  Config applied;
  /* "key: old -> new" for every setting that takes effect; passwords are
   * named, never shown. */
  std::vector<std::string> changes;
  /* Settings changed in the file that wait for a restart. */
  std::vector<std::string> kept_until_restart;
};

ReloadPlan planReload(const Config& running, const Config& next);

}  // namespace rhp::config
