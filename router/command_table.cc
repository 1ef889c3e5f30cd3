#include "router/command_table.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace rhp::router {

namespace {

inline constexpr CommandSpec kCommands[] = {
#include "router/command_table_data.inc"
};

constexpr bool sortedByName() {
  for (std::size_t i = 1; i < std::size(kCommands); ++i) {
    if (!(kCommands[i - 1].name < kCommands[i].name)) return false;
  }
  return true;
}
static_assert(sortedByName(), "command_table_data.inc must be sorted for binary search");

inline constexpr std::size_t kLongestName = 32;

}  // namespace

const CommandSpec* findCommand(std::string_view name) {
  if (name.empty() || name.size() > kLongestName) return nullptr;
  std::array<char, kLongestName> lower{};
  std::transform(name.begin(), name.end(), lower.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  const std::string_view key(lower.data(), name.size());
  const auto* end = std::end(kCommands);
  const auto* found = std::lower_bound(
      std::begin(kCommands), end, key,
      [](const CommandSpec& spec, std::string_view wanted) { return spec.name < wanted; });
  return found != end && found->name == key ? found : nullptr;
}

}  // namespace rhp::router
