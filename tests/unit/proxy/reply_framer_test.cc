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
}

}  // namespace
}  // namespace rhp::proxy
