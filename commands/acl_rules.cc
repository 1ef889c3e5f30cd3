#include "commands/acl_rules.h"

#include <algorithm>
#include <cctype>

namespace rhp::commands {

namespace {

constexpr AclCategories kAll = ~AclCategories{0};

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

bool AclRules::add(std::string_view rule) {
  if (rule == "~*" || rule == "allkeys" || rule == "%RW~*") return all_keys_ = true;
  if (rule == "resetkeys") return !(all_keys_ = false);
  if (rule == "&*" || rule == "allchannels") return all_channels_ = true;
  if (rule == "resetchannels") return !(all_channels_ = false);
  const std::string word = lower(rule);
  if (word == "allcommands") return add("+@all");
  if (word == "nocommands") return add("-@all");
  if (word.size() < 2 || (word[0] != '+' && word[0] != '-')) return false;
  Rule parsed;
  parsed.allow = word[0] == '+';
  const std::string_view name = std::string_view(word).substr(1);
  if (name.front() == '@') {
    parsed.category = name == "@all" ? kAll : aclCategory(name);
    if (parsed.category == 0) return false;
  } else {
    // A command or subcommand Redis 7.0 has, as Redis refuses names it
    // does not know ("Unknown command or category name in ACL"); Redis 7.0's
    // first-argument rules ("+select|0") are not subcommands and are
    // refused too: the proxy does not evaluate them.
    const auto bar = name.find('|');
    const bool sub = bar != std::string_view::npos;
    const Resolution resolved = resolveCommand(
        name.substr(0, bar), sub ? name.substr(bar + 1) : std::string_view{}, sub ? 2 : 1, nullptr);
    if (resolved.spec == nullptr || resolved.spec->name != name) return false;
    parsed.command = name;
  }
  rules_.push_back(std::move(parsed));
  return true;
}

bool AclRules::allows(const CommandSpec& spec) const {
  bool allowed = false;  // a new user runs nothing (Redis's default)
  for (const Rule& rule : rules_) {
    bool covers = false;
    if (rule.category != 0) {
      covers = rule.category == kAll || spec.inCategory(rule.category);
    } else if (rule.command == spec.name) {
      covers = true;
    } else {
      // "+config" covers "config|get"; "+config|get" covers only itself.
      covers = spec.name.size() > rule.command.size() && spec.name.starts_with(rule.command) &&
               spec.name[rule.command.size()] == '|';
    }
    if (covers) allowed = rule.allow;
  }
  return allowed;
}

bool AclRules::unrestricted() const {
  return all_keys_ && all_channels_ && !rules_.empty() && rules_.back().allow &&
         rules_.back().category == kAll;
}

AclDenial AclRules::check(const CommandSpec& spec) const {
  if (!allows(spec)) return AclDenial::Command;
  if (!all_keys_ && (spec.first_key > 0 || spec.has(kMovableKeys))) return AclDenial::Keys;
  // The commands whose arguments Redis checks against the channel rules.
  if (!all_channels_ &&
      (spec.family == Family::Subscribe || spec.name == "publish" || spec.name == "spublish")) {
    return AclDenial::Channels;
  }
  return AclDenial::None;
}

std::string AclRules::describe() const {
  std::string out = all_keys_ ? "~*" : "resetkeys";
  out += all_channels_ ? " &*" : " resetchannels";
  for (const Rule& rule : rules_) {
    out += ' ';
    out += rule.allow ? '+' : '-';
    if (rule.category == kAll) {
      out += "@all";
    } else if (rule.category != 0) {
      for (const auto& category : kAclCategoryNames) {
        if (category.bit == rule.category) out += category.name;
      }
    } else {
      out += rule.command;
    }
  }
  return out;
}

}  // namespace rhp::commands
