#include "config/config_dump.h"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <string>

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
  const std::regex section_line(R"(^\[([a-z_]+)\]\s*$)");
  const std::regex key_line(R"(^(# )?([a-z_]+) = .*$)");
  std::smatch match;
  while (std::getline(file, line)) {
    if (std::regex_match(line, match, section_line)) {
      section = match[1];
    } else if (std::regex_match(line, match, key_line)) {
      documented.insert(section + "." + std::string(match[2]));
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
