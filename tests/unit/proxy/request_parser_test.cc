#include "proxy/request_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "router/errors.h"

namespace rhp::proxy {
namespace {

struct Parsed {
  std::vector<std::vector<std::string>> requests;
  std::string error;
  bool operator==(const Parsed&) const = default;
};

/* Feeds `wire` in chunks ending at each of `cuts`, keeping unconsumed bytes
 * like ClientSession does, and records every complete request. */
Parsed parseChunks(const std::string& wire, const std::vector<std::size_t>& cuts,
                   ParserLimits limits = {}) {
  RequestParser parser(limits);
  Parsed out;
  std::string pending;
  std::size_t from = 0;
  std::vector<std::size_t> ends = cuts;
  ends.push_back(wire.size());
  for (std::size_t end : ends) {
    pending.append(wire, from, end - from);
    from = end;
    std::size_t offset = 0;
    while (offset < pending.size()) {
      const std::string_view in = std::string_view(pending).substr(offset);
      const auto result = parser.parse(in);
      if (result == RequestParser::Result::NeedMore) break;
      if (result == RequestParser::Result::ProtocolError) {
        out.error = std::string(parser.error());
        return out;
      }
      std::vector<std::string> args;
      for (std::size_t i = 0; i < parser.argc(); ++i) args.emplace_back(parser.arg(in, i));
      if (!args.empty()) out.requests.push_back(args);
      offset += parser.frameLength();
      parser.reset();
    }
    pending.erase(0, offset);
  }
  return out;
}

Parsed parseWhole(const std::string& wire, ParserLimits limits = {}) {
  return parseChunks(wire, {}, limits);
}

TEST(RequestParser, ParsesPipelinedArraysAndInlineCommands) {
  const std::string wire =
      "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
      "set \"a b\" 'c d'\r\n";
  const Parsed parsed = parseWhole(wire);
  EXPECT_EQ(parsed.error, "");
  const std::vector<std::vector<std::string>> expected = {
      {"SET", "k", "hello"}, {"PING"}, {"GET", "k"}, {"set", "a b", "c d"}};
  EXPECT_EQ(parsed.requests, expected);
}

TEST(RequestParser, ParsesIdenticallyWhenSplitAtAnyByte) {
  const std::string wire =
      "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhe\r\no\r\n*1\r\n$4\r\nPING\r\nECHO x\n"
      "*2\r\n$3\r\nGET\r\n$0\r\n\r\n";
  const Parsed whole = parseWhole(wire);
  ASSERT_EQ(whole.requests.size(), 4u);
  EXPECT_EQ(whole.requests[0][2], "he\r\no");
  for (std::size_t cut = 1; cut < wire.size(); ++cut) {
    EXPECT_EQ(parseChunks(wire, {cut}), whole) << "cut at byte " << cut;
  }
}

TEST(RequestParser, ParsesIdenticallyFedOneByteAtATime) {
  const std::string wire = "*2\r\n$4\r\nECHO\r\n$10\r\n0123456789\r\nPING\r\n";
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < wire.size(); ++i) cuts.push_back(i);
  EXPECT_EQ(parseChunks(wire, cuts), parseWhole(wire));
}

TEST(RequestParser, SkipsEmptyRequestsLikeRedis) {
  const Parsed parsed = parseWhole("*0\r\n\r\n*-1\r\nPING\r\n");
  ASSERT_EQ(parsed.requests.size(), 1u);
  EXPECT_EQ(parsed.requests[0][0], "PING");
}

TEST(RequestParser, RejectsNonNumericMultibulkLength) {
  EXPECT_EQ(parseWhole("*x\r\n").error, errors::kProtocolInvalidMultibulkLength);
}

// Lengths Redis's string2ll refuses: forwarded, they would make Redis close
// the shared connection with a protocol error.
TEST(RequestParser, ReadsLengthsExactlyLikeString2ll) {
  for (const char* wire :
       {"*02\r\n", "*-0\r\n", "*+1\r\n", "* 1\r\n", "*1 \r\n", "*000000000000000000001\r\n"}) {
    EXPECT_EQ(parseWhole(wire).error, errors::kProtocolInvalidMultibulkLength) << wire;
  }
  for (const char* wire :
       {"*1\r\n$03\r\nGET\r\n", "*1\r\n$-0\r\n", "*1\r\n$+3\r\nGET\r\n", "*1\r\n$-1\r\n"}) {
    EXPECT_EQ(parseWhole(wire).error, errors::kProtocolInvalidBulkLength) << wire;
  }
  const Parsed zero = parseWhole("*1\r\n$0\r\n\r\n*1\r\n$10\r\n0123456789\r\n");
  ASSERT_EQ(zero.requests.size(), 2u);
  EXPECT_EQ(zero.requests[0][0], "");
  EXPECT_EQ(zero.requests[1][0], "0123456789");
}

TEST(RequestParser, RejectsArrayLongerThanTheLimit) {
  ParserLimits limits;
  limits.max_array_len = 3;
  EXPECT_EQ(parseWhole("*4\r\n", limits).error, errors::kProtocolInvalidMultibulkLength);
  EXPECT_EQ(parseWhole("*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n", limits).error, "");
}

TEST(RequestParser, RejectsBulkLongerThanTheLimitBeforeReadingIt) {
  ParserLimits limits;
  limits.max_bulk_len = 10;
  EXPECT_EQ(parseWhole("*1\r\n$11\r\n", limits).error, errors::kProtocolInvalidBulkLength);
  EXPECT_EQ(parseWhole("*1\r\n$-5\r\n").error, errors::kProtocolInvalidBulkLength);
  EXPECT_EQ(parseWhole("*1\r\n$999999999999999999999\r\n").error,
            errors::kProtocolInvalidBulkLength);
}

TEST(RequestParser, RejectsMissingDollarWithTheOffendingByte) {
  EXPECT_EQ(parseWhole("*1\r\n:5\r\n").error, "-ERR Protocol error: expected '$', got ':'\r\n");
}

TEST(RequestParser, RejectsBulkWithoutCrlf) {
  EXPECT_EQ(parseWhole("*1\r\n$3\r\nabcXY").error, errors::kProtocolMissingCrlf);
}

TEST(RequestParser, RejectsEndlessHeaderLines) {
  const std::string endless_count = "*" + std::string(kMaxInlineLen + 1, '1');
  EXPECT_EQ(parseWhole(endless_count).error, errors::kProtocolBigCount);
  const std::string endless_bulk = "*1\r\n$" + std::string(kMaxInlineLen + 1, '1');
  EXPECT_EQ(parseWhole(endless_bulk).error, errors::kProtocolBigBulkCount);
  const std::string endless_inline(kMaxInlineLen + 1, 'a');
  EXPECT_EQ(parseWhole(endless_inline).error, errors::kProtocolBigInline);
}

/* Redis finds an inline request's end with strchr, which stops at a NUL:
 * such a line never completes, and fails as too big at 64 KiB. */
TEST(RequestParser, AnInlineLineWithANulNeverCompletesAsInRedis) {
  const std::string line("get a\0b\r\nPING\r\n", 15);
  EXPECT_EQ(parseWhole(line).requests.size(), 0u);
  EXPECT_EQ(parseWhole(line).error, "");
  EXPECT_EQ(parseWhole(line + std::string(kMaxInlineLen, 'x')).error, errors::kProtocolBigInline);
  EXPECT_EQ(parseWhole("get a\r\n" + std::string("b\0", 2)).requests.size(), 1u);
}

TEST(RequestParser, WaitsForIncompleteInput) {
  EXPECT_EQ(parseWhole("*2\r\n$3\r\nGET\r\n$1\r\n").requests.size(), 0u);
  EXPECT_EQ(parseWhole("*2\r\n$3\r\nGET\r\n$1\r\n").error, "");
  EXPECT_EQ(parseWhole("PIN").requests.size(), 0u);
}

TEST(SplitInlineArgs, HandlesQuotesAndEscapesLikeSdssplitargs) {
  std::vector<std::string> args;
  ASSERT_TRUE(splitInlineArgs(R"(set "a\x41\n" 'it\'s'  plain)", args));
  EXPECT_EQ(args, (std::vector<std::string>{"set", "aA\n", "it's", "plain"}));
  EXPECT_FALSE(splitInlineArgs(R"(get "unterminated)", args));
  EXPECT_FALSE(splitInlineArgs(R"(get "a"b)", args));
  ASSERT_TRUE(splitInlineArgs("   ", args));
  EXPECT_TRUE(args.empty());
}

}  // namespace
}  // namespace rhp::proxy
