#include "config/config_dump.h"

#include <gtest/gtest.h>

#include <string>

#include "config/config_loader.h"

namespace rhp::config {
namespace {

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
