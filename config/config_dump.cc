#include "config/config_dump.h"

#include "config/config_keys.h"

namespace rhp::config {

std::vector<std::pair<std::string, std::string>> configEntries(const Config& config) {
  std::vector<std::pair<std::string, std::string>> entries;
  for (const Key& key : configKeys()) entries.emplace_back(key.name, key.show(config));
  return entries;
}

}  // namespace rhp::config
