#include "config/key_types.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "commands/refusal_policy.h"

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

}  // namespace rhp::config::key_types
