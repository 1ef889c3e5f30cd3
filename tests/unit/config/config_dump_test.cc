#include "config/config_dump.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <string>
#include <string_view>

#include "config/config_loader.h"

namespace rhp::config {
namespace {

/* PROXY CONFIG GET shows exactly the settings the shipped example documents. */
TEST(ConfigDump, ListsEveryDocumentedSettingAndNothingElse) {
  const std::string example = std::string(RHP_SOURCE_DIR) + "/examples/redis-ha-proxy.toml";
  // "key = value" lines, and "# key = value" for settings shown commented
  // out (those without a default value, like replica_weights).
  std::set<std::string> documented;
  std::ifstream file(example);
  std::string line;
  std::string section;
  auto isKeyChar = [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; };
  while (std::getline(file, line)) {
    if (line.size() > 2 && line.front() == '[' && line.back() == ']') {
      section = line.substr(1, line.size() - 2);
      continue;
    }
    std::string_view rest = line;
    if (rest.starts_with("# ")) rest.remove_prefix(2);
    std::size_t key_end = 0;
    while (key_end < rest.size() && isKeyChar(rest[key_end])) ++key_end;
    if (key_end > 0 && rest.substr(key_end).starts_with(" = ")) {
      documented.insert(section + "." + std::string(rest.substr(0, key_end)));
    }
  }
  ASSERT_GT(documented.size(), 20u);
  std::set<std::string> dumped;
  for (const auto& [key, value] : configEntries(loadConfig(example, {}))) dumped.insert(key);
  EXPECT_EQ(dumped, documented);
}

TEST(ConfigDump, NeverShowsPasswords) {
  Config config = loadConfigFromString(
      "[proxy]\npassword = \"p1\"\n[backend]\npassword = \"p2\"\n"
      "[sentinel]\naddresses = [\"127.0.0.1:26379\"]\npassword = \"p3\"\n",
      "test.toml", {});
  for (const auto& [key, value] : configEntries(config)) {
    EXPECT_FALSE(value == "p1" || value == "p2" || value == "p3") << key << " = " << value;
    if (key.ends_with("password")) {
      EXPECT_EQ(value, "(set)") << key;
    }
  }
}

}  // namespace
}  // namespace rhp::config
