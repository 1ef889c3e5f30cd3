#include "config/config_keys.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "config/config_loader.h"

namespace rhp::config {
namespace {

const std::string kExample = std::string(RHP_SOURCE_DIR) + "/examples/redis-ha-proxy.toml";

/* What the shipped example says about one key. */
struct Documented {
  bool commented_out = false;  // "# key = value": shown, not set
  bool restart = false;        // its comment, or its section's, says "Restart"
};

/* Reads the example as an operator does: "key = value" lines (or "# key =
 * value" for a form shown without being set) under "[section]" headers, each
 * after the comment that documents it. */
std::map<std::string, Documented> readExample() {
  std::map<std::string, Documented> keys;
  std::ifstream file(kExample);
  std::string line;
  std::string section;
  std::string comment;  // the comment lines since the previous key
  bool section_restarts = false;
  auto isKeyChar = [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; };
  while (std::getline(file, line)) {
    if (line.size() > 2 && line.front() == '[' && line.back() == ']') {
      section = line.substr(1, line.size() - 2);
      comment.clear();
      section_restarts = false;
      continue;
    }
    std::string_view rest = line;
    const bool commented = rest.starts_with("# ");
    if (commented) rest.remove_prefix(2);
    std::size_t key_end = 0;
    while (key_end < rest.size() && isKeyChar(rest[key_end])) ++key_end;
    if (key_end == 0 || !rest.substr(key_end).starts_with(" = ")) {
      if (commented) comment += line + "\n";
      continue;
    }
    // The comment before a section's first key may speak for all of them.
    if (comment.find("Every key: restart") != std::string::npos) section_restarts = true;
    const bool restart = section_restarts || comment.find("Restart") != std::string::npos;
    keys[section + "." + std::string(rest.substr(0, key_end))] = {commented, restart};
    comment.clear();
  }
  return keys;
}

/* The example documents exactly the keys the loader reads. */
TEST(ConfigKeys, TheExampleDocumentsEveryKeyAndNothingElse) {
  const auto documented = readExample();
  ASSERT_GT(documented.size(), 20u);
  std::set<std::string> listed;
  for (const Key& key : configKeys()) listed.emplace(key.name);
  std::set<std::string> shown;
  for (const auto& [name, how] : documented) shown.insert(name);
  EXPECT_EQ(listed, shown);
}

/* An operator reads "Restart" in the example exactly where a reload leaves
 * the key alone. */
TEST(ConfigKeys, TheExampleSaysRestartWhereAReloadKeepsTheValue) {
  const auto documented = readExample();
  for (const Key& key : configKeys()) {
    const auto found = documented.find(std::string(key.name));
    if (found == documented.end()) continue;  // the test above names it
    EXPECT_EQ(found->second.restart, key.apply == Apply::Restart) << key.name;
  }
}

/* "Every key is shown with its default", as the example's first line says,
 * except where it shows the lab's deployment (scripts/lab): a master name and
 * sentinels have no useful default. */
TEST(ConfigKeys, TheExampleShowsEachDefault) {
  const std::set<std::string_view> deployment = {"sentinel.master_name", "sentinel.addresses"};
  const Config example = loadConfig(kExample, {});
  const Config defaults;
  const auto documented = readExample();
  for (const Key& key : configKeys()) {
    if (deployment.contains(key.name)) {
      EXPECT_FALSE(key.same(example, defaults)) << key.name << " is the default; drop it here";
      continue;
    }
    EXPECT_TRUE(key.same(example, defaults))
        << key.name << ": the example sets " << key.show(example) << ", the default is "
        << key.show(defaults);
  }
  EXPECT_TRUE(documented.at("routing.replica_weights").commented_out);
}

/* Each key reads back what it shows: the dump is a config file's values. */
TEST(ConfigKeys, EachKeyReadsWhatItShows) {
  Config config = loadConfigFromString(
      "[proxy]\nmaxmemory_clients = \"1gb\"\nclient_output_buffer_limit_pubsub = \"1mb 512kb 5\"\n"
      "[sentinel]\naddresses = [\"127.0.0.1:26379\", \"[::1]:26380\"]\n"
      "[routing]\nread_policy = \"replica\"\nreplica_balance = \"least-outstanding\"\n"
      "replica_weights = { \"127.0.0.1:7002\" = 3 }\nallow_commands = [\"config set\"]\n"
      "[log]\nformat = \"json\"\nlevel = \"debug\"\n",
      "test.toml", {});
  std::map<std::string, std::string> shown;
  for (const Key& key : configKeys()) shown[std::string(key.name)] = key.show(config);
  EXPECT_EQ(shown["proxy.maxmemory_clients"], "1073741824");
  EXPECT_EQ(shown["proxy.client_output_buffer_limit_pubsub"], "1048576 524288 5");
  EXPECT_EQ(shown["sentinel.addresses"], "127.0.0.1:26379,[::1]:26380");
  EXPECT_EQ(shown["routing.read_policy"], "replica");
  EXPECT_EQ(shown["routing.replica_balance"], "least-outstanding");
  EXPECT_EQ(shown["routing.replica_weights"], "127.0.0.1:7002=3");
  EXPECT_EQ(shown["routing.allow_commands"], "config|set");
  EXPECT_EQ(shown["log.format"], "json");
  EXPECT_EQ(shown["log.level"], "debug");
  // copy() carries a value over; same() then agrees.
  Config other;
  for (const Key& key : configKeys()) {
    key.copy(config, other);
    EXPECT_TRUE(key.same(config, other)) << key.name;
  }
}

TEST(ConfigKeys, ANameIsListedOnce) {
  std::set<std::string_view> seen;
  for (const Key& key : configKeys()) EXPECT_TRUE(seen.insert(key.name).second) << key.name;
}

}  // namespace
}  // namespace rhp::config
