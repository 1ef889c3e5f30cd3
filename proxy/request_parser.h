#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rhp::proxy {

struct ParserLimits {
  std::uint64_t max_bulk_len = 512ull * 1024 * 1024;
  std::uint32_t max_array_len = 1024 * 1024;
};

/* Lines without their CRLF ("*3", "$5", an inline command) are capped like
 * redis-server's PROTO_INLINE_MAX_SIZE so a client cannot make us buffer
 * an endless header. */
inline constexpr std::size_t kMaxInlineLen = 64 * 1024;

/* Incremental parser for one client request: a RESP array of bulk strings
 * or an inline command ("PING\r\n" typed in telnet).
 *
 * The caller keeps every byte of the request being parsed and passes them
 * again, plus whatever arrived since, on each call: `in` always starts at the
 * request's first byte. The parser remembers how far it got, so each byte is
 * examined once however the request is split. It does no I/O and no routing.
 *
 * A request of zero arguments ("*0\r\n", an empty inline line) is Complete
 * with argc() == 0; redis-server ignores those and so does the caller. */
class RequestParser {
 public:
  enum class Result { Complete, NeedMore, ProtocolError };
  struct Slice {
    std::size_t offset;
    std::size_t length;
  };

  explicit RequestParser(ParserLimits limits) : limits_(limits) {}

  Result parse(std::string_view in);
  /* New limits (a reload); a request being parsed is checked against them
   * from its next header on. */
  void setLimits(ParserLimits limits) { limits_ = limits; }

  /* Valid after Complete. */
  std::size_t frameLength() const { return frame_length_; }
  std::size_t argc() const { return inline_ ? inline_args_.size() : args_.size(); }
  bool isInline() const { return inline_; }
  std::string_view arg(std::string_view in, std::size_t index) const {
    if (inline_) return inline_args_[index];
    return in.substr(args_[index].offset, args_[index].length);
  }

  /* Valid after ProtocolError: the complete RESP error line to send before
   * closing the connection, as redis-server does. */
  std::string_view error() const { return error_; }

  /* Forget the finished request; keeps allocated capacity for the next one. */
  void reset();

 private:
  enum class State { Start, ArrayLen, BulkLen, BulkBody, Inline };

  Result fail(std::string_view error);
  Result parseInline(std::string_view in);
  /* Finds the CRLF ending the line that starts at `from`. npos: need more. */
  std::size_t findLineEnd(std::string_view in, std::size_t from) const;

  ParserLimits limits_;
  State state_ = State::Start;
  std::size_t pos_ = 0;
  std::size_t remaining_args_ = 0;
  std::size_t bulk_len_ = 0;
  std::size_t frame_length_ = 0;
  bool inline_ = false;
  std::vector<Slice> args_;
  std::vector<std::string> inline_args_;
  std::string error_;
};

/* Splits an inline command line like redis-server's sdssplitargs: blanks
 * separate arguments; "double quotes" take \n \r \t \b \a \\ \" and \xHH
 * escapes; 'single quotes' take \'. Returns false on unbalanced quotes. */
bool splitInlineArgs(std::string_view line, std::vector<std::string>& out);

}  // namespace rhp::proxy
