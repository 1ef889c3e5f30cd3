#include "commands/redis_match.h"

#include <gtest/gtest.h>

#include <string>

namespace rhp::commands {
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

TEST(RedisScanCursor, ReadsZeroLikeStrtoul) {
  for (const std::string& cursor : {"0"s, "00"s, "+0"s, "-0"s, ""s, "0\0junk"s, "000"s}) {
    EXPECT_TRUE(redisScanCursorIsZero(cursor)) << cursor;
  }
  for (const std::string& cursor : {"1"s, "10"s, "+"s, "-"s, " 0"s, "0 "s, "0x0"s, "-1"s}) {
    EXPECT_FALSE(redisScanCursorIsZero(cursor)) << cursor;
  }
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

TEST(RedisGlob, RangesWithHighBytesSpanWhatTheyDoInRedis) {
  // x86 chars are signed: 0x80 is -128, so case-sensitive [\x80-z] spans
  // every ASCII letter up to 'z'. Folding case, Redis swaps first and then
  // lowers with glibc's tolower(), which makes -128 into 128: the range
  // 128..'z' is empty (redis-server 7.0.15: CONFIG GET finds nothing).
  EXPECT_TRUE(redisGlobMatches("[\x80-z]equirepass", "requirepass", false));
  EXPECT_FALSE(redisGlobMatches("[\x80-z]equirepass", "requirepass", true));
  EXPECT_FALSE(redisGlobMatches("[\x01-\xff]equirepass", "requirepass", false));
}

}  // namespace
}  // namespace rhp::commands
