#include "config/memory_size.h"

#include <gtest/gtest.h>

#include "config/config_loader.h"

namespace rhp::config {
namespace {

TEST(MemorySize, ReadsRedisConfUnits) {
  EXPECT_EQ(parseRedisMemory("0"), 0u);
  EXPECT_EQ(parseRedisMemory("100"), 100u);
  EXPECT_EQ(parseRedisMemory("100b"), 100u);
  EXPECT_EQ(parseRedisMemory("1k"), 1000u);
  EXPECT_EQ(parseRedisMemory("1kb"), 1024u);
  EXPECT_EQ(parseRedisMemory("32mb"), 32u * 1024 * 1024);
  EXPECT_EQ(parseRedisMemory("32MB"), 32u * 1024 * 1024);
  EXPECT_EQ(parseRedisMemory("2m"), 2'000'000u);
  EXPECT_EQ(parseRedisMemory("1gb"), 1024ull * 1024 * 1024);
  EXPECT_EQ(parseRedisMemory("3g"), 3'000'000'000ull);
}

TEST(MemorySize, RejectsWhatRedisRejects) {
  for (const char* bad : {"", "mb", "-1", "1.5mb", "1 mb", "1tb", "12x", "99999999999999999999",
                          "18446744073709551615kb"}) {
    EXPECT_FALSE(parseRedisMemory(bad).has_value()) << bad;
  }
}

TEST(MemorySize, ReadsAndWritesOneClassOfClientOutputBufferLimit) {
  EXPECT_EQ(parseOutputBufferLimit("32mb 8mb 60"),
            (OutputBufferLimit{32u * 1024 * 1024, 8u * 1024 * 1024, 60}));
  EXPECT_EQ(parseOutputBufferLimit("0 0 0"), (OutputBufferLimit{0, 0, 0}));
  EXPECT_EQ(parseOutputBufferLimit("  1kb  2  3 "), (OutputBufferLimit{1024, 2, 3}));
  for (const char* bad : {"", "32mb 8mb", "32mb 8mb 60 1", "32mb 8mb x", "a b 1", "1 2 -3"}) {
    EXPECT_FALSE(parseOutputBufferLimit(bad).has_value()) << bad;
  }
  EXPECT_EQ(formatOutputBufferLimit({33554432, 8388608, 60}), "33554432 8388608 60");
}

TEST(MemorySize, TheLoaderTakesBytesOrUnitsAndNamesTheKeyWhenWrong) {
  const std::string sentinel = "[sentinel]\naddresses = [\"127.0.0.1:26379\"]\n";
  const Config defaults = loadConfigFromString(sentinel, "t.toml", {});
  EXPECT_EQ(defaults.proxy.client_output_backlog, 16u * 1024 * 1024);
  EXPECT_EQ(defaults.proxy.client_output_buffer_limit_pubsub,
            (OutputBufferLimit{32u * 1024 * 1024, 8u * 1024 * 1024, 60}));
  EXPECT_EQ(defaults.proxy.maxmemory_clients, 0u);

  const Config set = loadConfigFromString(
      sentinel +
          "[proxy]\nclient_output_backlog = 1048576\nmaxmemory_clients = \"1gb\"\n"
          "client_output_buffer_limit_pubsub = \"0 1mb 5\"\n",
      "t.toml", {});
  EXPECT_EQ(set.proxy.client_output_backlog, 1024u * 1024);
  EXPECT_EQ(set.proxy.maxmemory_clients, 1024ull * 1024 * 1024);
  EXPECT_EQ(set.proxy.client_output_buffer_limit_pubsub, (OutputBufferLimit{0, 1024 * 1024, 5}));

  try {
    loadConfigFromString(sentinel +
                             "[proxy]\nclient_output_backlog = \"1kb\"\n"
                             "maxmemory_clients = \"lots\"\n"
                             "client_output_buffer_limit_pubsub = \"32mb\"\n",
                         "t.toml", {});
    FAIL() << "accepted";
  } catch (const ConfigError& error) {
    ASSERT_EQ(error.problems().size(), 3u);
    std::string all;
    for (const auto& problem : error.problems()) all += problem + "\n";
    EXPECT_NE(all.find("proxy.client_output_backlog: must be 0 or at least 65536"),
              std::string::npos)
        << all;
    EXPECT_NE(all.find("proxy.maxmemory_clients: must be a size"), std::string::npos) << all;
    EXPECT_NE(all.find("proxy.client_output_buffer_limit_pubsub: must be a string"),
              std::string::npos)
        << all;
  }
}

}  // namespace
}  // namespace rhp::config
