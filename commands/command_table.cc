#include "commands/command_table.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace rhp::commands {

namespace {

inline constexpr CommandSpec kCommands[] = {
#include "commands/command_table_data.inc"
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
    for (char c : part)
      out[length++] = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
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

namespace {

CommandFlags flagsOf(const std::vector<std::string>& names) {
  static constexpr std::pair<std::string_view, CommandFlags> kMap[] = {
      {"write", kWrite},       {"readonly", kReadOnly},
      {"admin", kAdmin},       {"pubsub", kPubSub},
      {"noscript", kNoScript}, {"blocking", kBlocking},
      {"loading", kLoading},   {"stale", kStale},
      {"fast", kFast},         {"movablekeys", kMovableKeys},
      {"denyoom", kDenyOom}};
  CommandFlags flags = kNone;
  for (const auto& name : names) {
    for (const auto& [flag_name, flag] : kMap) {
      if (name == flag_name) flags |= flag;
    }
  }
  return flags;
}

std::string lowered(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

AclCategories categoriesOf(const std::vector<std::string>& names) {
  AclCategories categories = 0;
  for (const auto& name : names) categories |= aclCategory(name);
  return categories;
}

}  // namespace

std::span<const CommandSpec> builtinCommands() {
  return kCommands;
}

LearnedCommands::LearnedCommands(const std::vector<CommandRow>& rows) {
  for (const auto& row : rows) {
    // Only what the built-in table lacks: its rows are what this proxy was
    // tested with. A built-in container's new subcommands are learned too.
    if (lookup(lowered(row.name)) == nullptr) {
      add(row);
      continue;
    }
    for (const auto& sub : row.subcommands) {
      if (lookup(lowered(sub.name)) == nullptr) add(sub);
    }
  }
}

void LearnedCommands::add(const CommandRow& row) {
  CommandFlags flags = flagsOf(row.flags);
  if (!row.subcommands.empty()) flags |= kHasSubcommands;
  names_.push_back(lowered(row.name));
  specs_.push_back({names_.back(), static_cast<std::int16_t>(row.arity), flags,
                    static_cast<std::int8_t>(row.first_key), categoriesOf(row.categories)});
  for (const auto& sub : row.subcommands) add(sub);
}

const CommandSpec* LearnedCommands::findExact(std::string_view key) const {
  for (const auto& spec : specs_) {
    if (spec.name == key) return &spec;
  }
  return nullptr;
}

Resolution resolveCommand(std::string_view name, std::string_view subcommand, std::size_t argc,
                          const LearnedCommands* learned) {
  if (name.find('|') != std::string_view::npos) return {};
  Resolution base{findCommand(name), false, nullptr};
  if (base.spec == nullptr && learned != nullptr) {
    base = {learned->findExact(lowered(name)), true, nullptr};
  }
  if (base.spec == nullptr || !base.spec->has(kHasSubcommands) || argc < 2) return base;
  // "config|get" on the stack: CONFIG GET, CLIENT ID, OBJECT ... are per
  // request. Only a name past 64 bytes (a module's, learned) allocates.
  std::array<char, kLongestName> buffer{};
  std::size_t length = 0;
  std::string long_key;
  std::string_view key;
  if (lowerKey({name, subcommand}, buffer, length)) {
    key = std::string_view(buffer.data(), length);
  } else {
    long_key = lowered(name) + "|" + lowered(subcommand);
    key = long_key;
  }
  if (const CommandSpec* sub = lookup(key)) return {sub, false, nullptr};
  if (learned != nullptr) {
    if (const CommandSpec* sub = learned->findExact(key)) return {sub, true, nullptr};
  }
  return {nullptr, false, base.spec};
}

}  // namespace rhp::commands
