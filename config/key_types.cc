#include "config/key_types.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "commands/refusal_policy.h"
#include "config/acl_user.h"

namespace rhp::config::key_types {

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

std::optional<std::vector<Address>> Endpoints::read(ValueReader& value) const {
  auto elements = value.elements("an array of \"host:port\" strings");
  if (!elements) return std::nullopt;
  std::vector<Address> out;
  for (const auto& element : *elements) {
    if (auto address = Endpoint{}.read(*element)) out.push_back(*address);
  }
  return out;
}

std::string Endpoints::show(const std::vector<Address>& value) const {
  std::vector<std::string> texts;
  for (const auto& address : value) texts.push_back(address.toString());
  return joined(texts);
}

std::optional<std::vector<Config::Routing::Weight>> Weights::read(ValueReader& value) const {
  auto entries = value.entries("a table of \"host:port\" = weight");
  if (!entries) return std::nullopt;
  std::vector<Config::Routing::Weight> out;
  for (const auto& entry : *entries) {
    std::string error;
    auto address = parseAddress(entry.name, error);
    if (!address) {
      entry.value->problem("bad address: " + error);
      continue;
    }
    if (auto weight = Integer<std::uint32_t>{0, 1000}.read(*entry.value)) {
      out.push_back({*address, *weight});
    }
  }
  return out;
}

std::string Weights::show(const std::vector<Config::Routing::Weight>& value) const {
  std::vector<std::string> texts;
  for (const auto& weight : value) {
    texts.push_back(fmt::format("{}={}", weight.replica.toString(), weight.weight));
  }
  return joined(texts);
}

std::optional<std::vector<std::string>> AllowedCommands::read(ValueReader& value) const {
  auto elements = value.elements("an array of command names");
  if (!elements) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& element : *elements) {
    auto name = element->string();
    if (!name) continue;
    std::transform(name->begin(), name->end(), name->begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    // "config set" and "config|set" both name the subcommand.
    std::replace(name->begin(), name->end(), ' ', '|');
    if (commands::isUnproxyable(*name)) {
      element->problem("'" + *name + "' can never be proxied (it takes over the connection)");
    } else if (commands::isNeverAllowed(*name)) {
      element->problem("'" + *name + "' can never be proxied (it reads or changes credentials)");
    } else if (!commands::isDisabledByDefault(*name)) {
      element->problem("'" + *name + "' is not disabled, so there is nothing to allow");
    } else {
      out.push_back(*name);
    }
  }
  return out;
}

std::optional<std::vector<std::string>> AclUserLines::read(ValueReader& value) const {
  auto elements = value.elements("an array of \"user <name> <rules>\" lines");
  if (!elements) return std::nullopt;
  std::vector<std::string> out;
  std::vector<std::string> names;
  for (const auto& element : *elements) {
    auto line = element->string();
    if (!line) continue;
    std::string error;
    const auto user = parseAclUser(*line, error);
    if (user == nullptr) {
      element->problem(error);
    } else if (std::find(names.begin(), names.end(), user->name) != names.end()) {
      element->problem("user " + user->name + " is defined twice");
    } else {
      names.push_back(user->name);
      out.push_back(*line);
    }
  }
  return out;
}

std::string AclUserLines::show(const std::vector<std::string>& value) const {
  std::vector<std::string> names;
  for (const std::string& line : value) {
    std::string error;
    if (const auto user = parseAclUser(line, error)) names.push_back(user->name);
  }
  return joined(names);
}

}  // namespace rhp::config::key_types
