#include "health/command_rows.h"

#include <gtest/gtest.h>

#include "tests/support/hiredis_reply.h"

#include <memory>
#include <string>

namespace rhp::health {
namespace {

using test::parseReply;

// Two rows as redis-server 7.0 writes them (tips and key specs emptied),
// one with a subcommand, and one entry of another shape that is skipped.
TEST(CommandRows, ReadsNamesFlagsCategoriesAndSubcommands) {
  const std::string wire =
      "*3\r\n"
      "*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n"
      "*3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n*0\r\n*0\r\n"
      "*10\r\n$6\r\nclient\r\n:-2\r\n*0\r\n:0\r\n:0\r\n:0\r\n*1\r\n+@slow\r\n*0\r\n*0\r\n"
      "*1\r\n"
      "*10\r\n$11\r\nclient|kill\r\n:-3\r\n*1\r\n+admin\r\n:0\r\n:0\r\n:0\r\n"
      "*3\r\n+@admin\r\n+@slow\r\n+@dangerous\r\n*0\r\n*0\r\n*0\r\n"
      "$4\r\njunk\r\n";
  const auto reply = parseReply(wire);
  ASSERT_NE(reply, nullptr);
  const auto rows = commandRows(reply.get());
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].name, "get");
  EXPECT_EQ(rows[0].arity, 2);
  EXPECT_EQ(rows[0].flags, (std::vector<std::string>{"readonly", "fast"}));
  EXPECT_EQ(rows[0].categories, (std::vector<std::string>{"@read", "@string", "@fast"}));
  EXPECT_EQ(rows[1].name, "client");
  ASSERT_EQ(rows[1].subcommands.size(), 1u);
  EXPECT_EQ(rows[1].subcommands[0].name, "client|kill");
  EXPECT_EQ(rows[1].subcommands[0].categories,
            (std::vector<std::string>{"@admin", "@slow", "@dangerous"}));
  EXPECT_TRUE(commandRows(nullptr).empty());
}

}  // namespace
}  // namespace rhp::health
