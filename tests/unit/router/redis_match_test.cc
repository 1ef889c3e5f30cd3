#include "router/redis_match.h"

#include <gtest/gtest.h>

#include <string>

namespace rhp::router {
namespace {

using namespace std::string_literals;

TEST(RedisKeywordEquals, FoldsCaseAndStopsAtNulLikeStrcasecmp) {
  EXPECT_TRUE(redisKeywordEquals("BLOCK", "block"));
  EXPECT_TRUE(redisKeywordEquals("bLoCk", "block"));
  EXPECT_TRUE(redisKeywordEquals("BLOCK\0"s, "block"));
  EXPECT_TRUE(redisKeywordEquals("BLOCK\0xyz"s, "block"));
  EXPECT_FALSE(redisKeywordEquals("BLOCKS", "block"));
  EXPECT_FALSE(redisKeywordEquals("BLO", "block"));
  EXPECT_FALSE(redisKeywordEquals("\0BLOCK"s, "block"));
  EXPECT_FALSE(redisKeywordEquals("", "block"));
}

TEST(HasNul, FindsANulAnywhere) {
  EXPECT_FALSE(hasNul("SET"));
  EXPECT_TRUE(hasNul("SET\0"s));
  EXPECT_TRUE(hasNul("\0SET"s));
  EXPECT_TRUE(hasNul("S\0ET"s));
}

struct GlobCase {
  const char* pattern;
  const char* text;
  bool nocase;
  bool matches;
};

TEST(RedisGlob, MatchesLikeStringmatchlen) {
  const GlobCase cases[] = {
      {"*", "requirepass", true, true},
      {"*pass*", "requirepass", true, true},
      {"*PASS*", "requirepass", true, true},
      {"*PASS*", "requirepass", false, false},
      {"require?ass", "requirepass", true, true},
      {"require??ass", "requirepass", true, false},
      {"r[a-f]quirepass", "requirepass", true, true},
      {"r[^a-f]quirepass", "requirepass", true, false},
      {"r[f-a]quirepass", "requirepass", true, true},  // reversed range
      {"r[A-F]quirepass", "requirepass", true, true},
      {"r[A-F]quirepass", "requirepass", false, false},
      {"r[xyz]quirepass", "requirepass", true, false},
      {"r[xey]quirepass", "requirepass", true, true},
      {"r\\equirepass", "requirepass", true, true},
      {"r[\\e]quirepass", "requirepass", true, true},
      {"requirepass*", "requirepass", true, true},
      {"requirepass**", "requirepass", true, true},
      {"requirepas", "requirepass", true, false},
      {"requirepasss", "requirepass", true, false},
      {"maxmemory*", "requirepass", true, false},
      {"*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true, false},
      {"", "", true, true},
      {"", "a", true, false},
      {"*", "", true, false},  // as in Redis: the loop never starts on an empty text
      {"[", "r", true, false},
      {"[^", "r", true, true},  // an unterminated negated class takes any byte
      {"requirepas[s", "requirepass", true, true},
      {"\\", "\\", true, true},  // a trailing backslash is itself
  };
  for (const auto& c : cases) {
    EXPECT_EQ(redisGlobMatches(c.pattern, c.text, c.nocase), c.matches)
        << "pattern '" << c.pattern << "' text '" << c.text << "'";
  }
}

TEST(RedisGlob, RangesCompareSignedBytesAsRedisDoes) {
  // On x86 Redis compares plain chars: 0x80 is -128, so [\x80-z] spans
  // every ASCII letter up to 'z'.
  EXPECT_TRUE(redisGlobMatches("[\x80-z]equirepass", "requirepass", true));
  EXPECT_FALSE(redisGlobMatches("[\x01-\xff]equirepass", "requirepass", true));
}

}  // namespace
}  // namespace rhp::router
