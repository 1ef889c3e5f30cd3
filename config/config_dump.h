#pragma once

#include <string>
#include <utility>
#include <vector>

#include "config/config.h"

namespace rhp::config {

/* Every setting as "section.key" and the value as the file would spell it,
 * for PROXY CONFIG GET. Passwords show as "(set)" or "", never in clear. */
std::vector<std::pair<std::string, std::string>> configEntries(const Config& config);

}  // namespace rhp::config
