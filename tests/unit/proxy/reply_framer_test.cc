#include "proxy/reply_framer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rhp::proxy {
namespace {

struct Framed {
  std::vector<std::string> frames;
  std::vector<bool> errors;
  bool corrupt = false;
  bool operator==(const Framed&) const = default;
};

Framed frameChunks(const std::string& wire, std::size_t chunk) {
  ReplyFramer framer;
  Framed out;
  for (std::size_t from = 0; from < wire.size(); from += chunk) {
    framer.feed(std::string_view(wire).substr(from, chunk));
    while (true) {
      std::string_view frame;
      bool is_error = false;
      const auto result = framer.next(frame, is_error);
      if (result == ReplyFramer::Result::NeedMore) break;
      if (result == ReplyFramer::Result::Corrupt) {
        out.corrupt = true;
        return out;
      }
      out.frames.emplace_back(frame);
      out.errors.push_back(is_error);
    }
  }
  return out;
}

const std::string kAllTypes =
    "+OK\r\n-ERR bad\r\n:42\r\n$5\r\nhello\r\n$-1\r\n*-1\r\n*0\r\n"
    "*3\r\n:1\r\n*2\r\n$1\r\na\r\n+b\r\n$0\r\n\r\n";

TEST(ReplyFramer, FramesEveryResp2TypeWithOriginalBytes) {
  const Framed framed = frameChunks(kAllTypes, kAllTypes.size());
  const std::vector<std::string> expected = {
      "+OK\r\n", "-ERR bad\r\n", ":42\r\n", "$5\r\nhello\r\n",
      "$-1\r\n", "*-1\r\n",      "*0\r\n",  "*3\r\n:1\r\n*2\r\n$1\r\na\r\n+b\r\n$0\r\n\r\n"};
  EXPECT_EQ(framed.frames, expected);
  EXPECT_EQ(framed.errors,
            (std::vector<bool>{false, true, false, false, false, false, false, false}));
  EXPECT_FALSE(framed.corrupt);
}

TEST(ReplyFramer, FramesIdenticallyInAnyChunkSize) {
  const Framed whole = frameChunks(kAllTypes, kAllTypes.size());
  for (std::size_t chunk = 1; chunk < kAllTypes.size(); ++chunk) {
    EXPECT_EQ(frameChunks(kAllTypes, chunk), whole) << "chunk size " << chunk;
  }
}

TEST(ReplyFramer, PassesLargeBulkThrough) {
  const std::string value(5 * 1024 * 1024, 'v');
  const std::string wire = "$" + std::to_string(value.size()) + "\r\n" + value + "\r\n+OK\r\n";
  const Framed framed = frameChunks(wire, 64 * 1024);
  ASSERT_EQ(framed.frames.size(), 2u);
  EXPECT_EQ(framed.frames[0], wire.substr(0, wire.size() - 5));
  EXPECT_EQ(framed.frames[1], "+OK\r\n");
}

TEST(ReplyFramer, ReportsCorruptStream) {
  EXPECT_TRUE(frameChunks("?what\r\n", 7).corrupt);
  EXPECT_TRUE(frameChunks("$3\r\nabcd\r\n", 1).corrupt);       // body longer than said
  EXPECT_TRUE(frameChunks("$x\r\n", 1).corrupt);               // not a length
  EXPECT_TRUE(frameChunks("*-2\r\n", 1).corrupt);              // only -1 means null
  EXPECT_TRUE(frameChunks("%-1\r\n", 1).corrupt);              // RESP3 nulls are '_'
  EXPECT_TRUE(frameChunks("$?\r\n", 1).corrupt);               // streamed: Redis never sends it
  EXPECT_TRUE(frameChunks("*99999999999999\r\n", 1).corrupt);  // past 2^40
  EXPECT_TRUE(frameChunks("*" + std::string(40, '1'), 3).corrupt);  // an endless length line
}

// Every RESP3 type, as Redis 7 sends them, with attributes before a reply
// and a push between replies.
const std::string kResp3 =
    "%2\r\n+a\r\n:1\r\n+b\r\n*2\r\n,3.14\r\n(12345678901234567890\r\n"
    "~2\r\n#t\r\n#f\r\n"
    "_\r\n"
    ",inf\r\n"
    "=15\r\ntxt:Some string\r\n"
    "!21\r\nSYNTAX invalid syntax\r\n"
    ">3\r\n$10\r\ninvalidate\r\n*1\r\n$3\r\nkey\r\n_\r\n"
    "|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n"
    "*2\r\n:2039123\r\n:9543892\r\n"
    "|1\r\n+ttl\r\n:3600\r\n-ERR after an attribute\r\n"
    "*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n:2\r\n"
    "%0\r\n~0\r\n>0\r\n$0\r\n\r\n";

TEST(ReplyFramer, FramesEveryResp3TypeWithAttributesAndPushes) {
  const Framed framed = frameChunks(kResp3, kResp3.size());
  ASSERT_FALSE(framed.corrupt);
  const std::vector<std::string> expected = {
      "%2\r\n+a\r\n:1\r\n+b\r\n*2\r\n,3.14\r\n(12345678901234567890\r\n",
      "~2\r\n#t\r\n#f\r\n",
      "_\r\n",
      ",inf\r\n",
      "=15\r\ntxt:Some string\r\n",
      "!21\r\nSYNTAX invalid syntax\r\n",
      ">3\r\n$10\r\ninvalidate\r\n*1\r\n$3\r\nkey\r\n_\r\n",
      "|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n"
      "*2\r\n:2039123\r\n:9543892\r\n",
      "|1\r\n+ttl\r\n:3600\r\n-ERR after an attribute\r\n",
      "*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n:2\r\n",
      "%0\r\n",
      "~0\r\n",
      ">0\r\n",
      "$0\r\n\r\n"};
  EXPECT_EQ(framed.frames, expected);
  const std::vector<bool> errors = {false, false, false, false, false, true,  false,
                                    false, true,  false, false, false, false, false};
  EXPECT_EQ(framed.errors, errors);
}

TEST(ReplyFramer, TellsTheKindOfEachReplyAfterItsAttributes) {
  ReplyFramer framer;
  framer.feed(">2\r\n+message\r\n+x\r\n|1\r\n+a\r\n+b\r\n:7\r\n");
  std::string_view frame;
  bool is_error = false;
  ASSERT_EQ(framer.next(frame, is_error), ReplyFramer::Result::Frame);
  EXPECT_EQ(framer.kind(), '>');
  ASSERT_EQ(framer.next(frame, is_error), ReplyFramer::Result::Frame);
  EXPECT_EQ(framer.kind(), ':');
  EXPECT_EQ(framer.next(frame, is_error), ReplyFramer::Result::NeedMore);
}

TEST(ReplyFramer, FramesResp3IdenticallySplitAtEveryByte) {
  const Framed whole = frameChunks(kResp3, kResp3.size());
  for (std::size_t chunk = 1; chunk < kResp3.size(); ++chunk) {
    ASSERT_EQ(frameChunks(kResp3, chunk), whole) << "chunk size " << chunk;
  }
  // Two pieces, cut at every byte.
  for (std::size_t cut = 1; cut < kResp3.size(); ++cut) {
    ReplyFramer framer;
    Framed out;
    for (const std::string_view piece :
         {std::string_view(kResp3).substr(0, cut), std::string_view(kResp3).substr(cut)}) {
      framer.feed(piece);
      std::string_view frame;
      bool is_error = false;
      while (framer.next(frame, is_error) == ReplyFramer::Result::Frame) {
        out.frames.emplace_back(frame);
        out.errors.push_back(is_error);
      }
    }
    ASSERT_EQ(out, whole) << "cut at " << cut;
  }
}

// The hiredis reader stopped at depth 9: EVAL "return {{{{{{{{{1}}}}}}}}}"
// and COMMAND DOCS dropped the shared link. Redis limits no depth.
TEST(ReplyFramer, PassesAnyDepthAndWidth) {
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "*1\r\n";
  deep += ":1\r\n";
  const Framed framed_deep = frameChunks(deep + "+OK\r\n", 4096);
  ASSERT_EQ(framed_deep.frames.size(), 2u);
  EXPECT_EQ(framed_deep.frames[0], deep);

  std::string wide = "*100000\r\n";
  for (int i = 0; i < 100000; ++i)
    wide += "%1\r\n$1\r\nk\r\n*2\r\n:" + std::to_string(i) + "\r\n_\r\n";
  const Framed framed_wide = frameChunks(wide, 16 * 1024);
  ASSERT_EQ(framed_wide.frames.size(), 1u);
  EXPECT_EQ(framed_wide.frames[0], wide);
}

TEST(ReplyFramer, GivesBackTheMemoryOfALargeReply) {
  ReplyFramer framer;
  const std::string value(8 * 1024 * 1024, 'v');
  framer.feed("$" + std::to_string(value.size()) + "\r\n" + value + "\r\n");
  std::string_view frame;
  bool is_error = false;
  ASSERT_EQ(framer.next(frame, is_error), ReplyFramer::Result::Frame);
  EXPECT_EQ(frame.size(), value.size() + 12);  // "$8388608\r\n" and "\r\n"
  // The next read finds the buffer idle and shrinks it.
  EXPECT_LE(framer.prepare(16 * 1024).size(), 64u * 1024);
  EXPECT_EQ(framer.pendingBytes(), 0u);
}

}  // namespace
}  // namespace rhp::proxy
