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

inline constexpr std::size_t kLongestName = 64;  // "container|subcommand" included

const CommandSpec* lookup(std::string_view key) {
  const auto* end = std::end(kCommands);
  const auto* found = std::lower_bound(
      std::begin(kCommands), end, key,
      [](const CommandSpec& spec, std::string_view wanted) { return spec.name < wanted; });
  return found != end && found->name == key ? found : nullptr;
}

/* Lower-cases `parts` joined by '|' into `out`; false if too long. */
bool lowerKey(std::initializer_list<std::string_view> parts, std::array<char, kLongestName>& out,
              std::size_t& length) {
  length = 0;
  for (auto part : parts) {
    if (length != 0) {
      if (length == out.size()) return false;
      out[length++] = '|';
    }
    if (part.size() > out.size() - length) return false;
    for (char c : part) out[length++] = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return true;
}

}  // namespace

const CommandSpec* findCommand(std::string_view name) {
  std::array<char, kLongestName> key{};
  std::size_t length = 0;
  // "config|get" is how the table names a subcommand, not a command a client may send.
  if (name.empty() || name.find('|') != std::string_view::npos || !lowerKey({name}, key, length)) {
    return nullptr;
  }
  return lookup(std::string_view(key.data(), length));
}

const CommandSpec* findCommand(std::string_view name, std::string_view subcommand) {
  const CommandSpec* spec = findCommand(name);
  if (spec == nullptr || !spec->has(kHasSubcommands) || subcommand.empty()) return spec;
  std::array<char, kLongestName> key{};
  std::size_t length = 0;
  if (!lowerKey({name, subcommand}, key, length)) return spec;
  const CommandSpec* sub = lookup(std::string_view(key.data(), length));
  return sub != nullptr ? sub : spec;
}

}  // namespace rhp::router
