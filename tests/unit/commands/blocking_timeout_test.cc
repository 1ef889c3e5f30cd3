#include "commands/blocking_timeout.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rhp::commands {
namespace {

std::optional<TimeoutArgument> timeoutOf(const std::vector<std::string>& argv) {
  const CommandSpec* spec = findCommand(argv[0]);
  EXPECT_NE(spec, nullptr) << argv[0];
  ArgAccess args{
      &argv, [](const void* context, std::size_t index) {
        return std::string_view((*static_cast<const std::vector<std::string>*>(context))[index]);
      }};
  return blockingTimeout(*spec, args, argv.size());
}

/* Where the timeout is comes from COMMAND DOCS through the generator. */
TEST(BlockingTimeout, FoundWhereRedisDocumentsIt) {
  auto blpop = timeoutOf({"blpop", "a", "b", "2.5"});
  ASSERT_TRUE(blpop);
  EXPECT_EQ(blpop->index, 3u);
  EXPECT_FALSE(blpop->millis);
  EXPECT_EQ(blpop->value_ms, 2500u);
  auto blmove = timeoutOf({"BLMOVE", "a", "b", "LEFT", "RIGHT", "10"});
  ASSERT_TRUE(blmove);
  EXPECT_EQ(blmove->index, 5u);
  EXPECT_EQ(blmove->value_ms, 10000u);
  auto blmpop = timeoutOf({"blmpop", "0.1", "1", "k", "LEFT"});
  ASSERT_TRUE(blmpop);
  EXPECT_EQ(blmpop->index, 1u);
  EXPECT_EQ(blmpop->value_ms, 100u);
  auto xread = timeoutOf({"xread", "COUNT", "5", "bLoCk", "1500", "STREAMS", "s", "$"});
  ASSERT_TRUE(xread);
  EXPECT_EQ(xread->index, 4u);
  EXPECT_TRUE(xread->millis);
  EXPECT_EQ(xread->value_ms, 1500u);
  auto group = timeoutOf({"xreadgroup", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"});
  ASSERT_TRUE(group);
  EXPECT_EQ(group->value_ms, 0u) << "0 blocks for ever";
  // A group and a consumer named like options (found by review).
  auto named = timeoutOf(
      {"XREADGROUP", "GROUP", "block", "007", "NOACK", "BLOCK", "50", "STREAMS", "s", ">"});
  ASSERT_TRUE(named);
  EXPECT_EQ(named->index, 6u);
  EXPECT_EQ(named->value_ms, 50u);
  EXPECT_FALSE(timeoutOf({"XREADGROUP", "GROUP", "block", "007", "STREAMS", "s", ">"}));
}

TEST(BlockingTimeout, NoneWhereThereIsNothingToResume) {
  EXPECT_FALSE(timeoutOf({"get", "k"}));
  // Without BLOCK, XREAD does not block; after STREAMS, "block" is a key.
  EXPECT_FALSE(timeoutOf({"xread", "STREAMS", "block", "5"}));
  // Values Redis refuses go as they are, for Redis's own error.
  EXPECT_FALSE(timeoutOf({"blpop", "k", "-1"}));
  EXPECT_FALSE(timeoutOf({"blpop", "k", "soon"}));
  EXPECT_FALSE(timeoutOf({"xread", "BLOCK", "1.5", "STREAMS", "s", "$"}));
  EXPECT_FALSE(timeoutOf({"xread", "BLOCK", "+5", "STREAMS", "s", "$"}));
  EXPECT_FALSE(timeoutOf({"blpop", "k", " 5"}));
}

/* Redis rounds a timeout in seconds up to whole milliseconds: 0.0009 s is
 * 1 ms, not 0, which would block for ever. */
TEST(BlockingTimeout, SecondsRoundUpToAMillisecondAsRedisDoes) {
  auto tiny = timeoutOf({"blpop", "k", "0.0009"});
  ASSERT_TRUE(tiny);
  EXPECT_EQ(tiny->value_ms, 1u);
  auto fraction = timeoutOf({"blpop", "k", "1.0001"});
  ASSERT_TRUE(fraction);
  EXPECT_EQ(fraction->value_ms, 1001u);
}

}  // namespace
}  // namespace rhp::commands
