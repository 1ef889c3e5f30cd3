#include "proxy/reply_framer.h"

#include <algorithm>
#include <cstring>

namespace rhp::proxy {

namespace {

/* A buffer grown for one large reply goes back to this size once it is
 * empty, so an idle link holds 64 KiB, not the largest value it carried. */
constexpr std::size_t kIdleCapacity = 64 * 1024;
constexpr std::size_t kShrinkAbove = 1024 * 1024;

/* Lengths and counts past 2^40 (1 TiB, 10^12 elements) are no reply a
 * server sends; refusing them keeps the arithmetic below far from overflow
 * (at most 2^41 owed per header, and owed is capped at 2^62). */
constexpr std::int64_t kMaxLength = std::int64_t{1} << 40;
constexpr std::uint64_t kMaxOwed = std::uint64_t{1} << 62;

/* A length header is a sign and up to 13 digits; a line longer than this
 * without its CRLF is not one. */
constexpr std::size_t kMaxLengthLine = 32;

bool parseLength(std::string_view digits, std::int64_t& out) {
  bool negative = false;
  if (!digits.empty() && digits[0] == '-') {
    negative = true;
    digits.remove_prefix(1);
  }
  if (digits.empty() || digits.size() > 13) return false;
  std::int64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  out = negative ? -value : value;
  return out <= kMaxLength;
}

bool isLengthType(char type) {
  switch (type) {
    case '$':  // bulk string
    case '!':  // blob error
    case '=':  // verbatim string
    case '*':  // array
    case '%':  // map
    case '~':  // set
    case '>':  // push
    case '|':  // attribute
      return true;
    default:
      return false;
  }
}

bool isSimpleType(char type) {
  switch (type) {
    case '+':  // simple string
    case '-':  // simple error
    case ':':  // integer
    case ',':  // double
    case '(':  // big number
    case '#':  // boolean
    case '_':  // null
      return true;
    default:
      return false;
  }
}

}  // namespace

std::span<char> ReplyFramer::prepare(std::size_t min) {
  if (consumed_ == end_ && buffer_.size() > kShrinkAbove) {
    // Idle after a large reply: give the memory back.
    buffer_ = std::vector<char>(kIdleCapacity);
    end_ = consumed_ = pos_ = line_from_ = body_end_ = 0;
  }
  if (buffer_.size() - end_ < min && consumed_ > 0) {
    // Move the unfinished reply to the front; positions move with it.
    std::memmove(buffer_.data(), buffer_.data() + consumed_, end_ - consumed_);
    end_ -= consumed_;
    pos_ -= consumed_;
    line_from_ -= consumed_;
    body_end_ = body_end_ >= consumed_ ? body_end_ - consumed_ : 0;
    consumed_ = 0;
  }
  if (buffer_.size() - end_ < min) {
    buffer_.resize(std::max({kIdleCapacity, buffer_.size() * 2, end_ + min}));
  }
  return std::span<char>(buffer_).subspan(end_);
}

void ReplyFramer::commit(std::size_t bytes) {
  end_ += std::min(bytes, buffer_.size() - end_);
}

void ReplyFramer::feed(std::string_view chunk) {
  const std::span<char> room = prepare(chunk.size());
  std::memcpy(room.data(), chunk.data(), chunk.size());
  commit(chunk.size());
}

/* Reads one header line at pos_ (its CRLF is present) and updates owed_. */
ReplyFramer::Result ReplyFramer::header() {
  const char type = buffer_[pos_];
  const bool length_type = isLengthType(type);
  if (!length_type && !isSimpleType(type)) return Result::Corrupt;  // '?' streaming included
  // The CRLF search resumes where the last attempt stopped: a long status
  // line split over many reads is scanned once.
  const std::size_t from = std::max(line_from_, pos_ + 1);
  const std::string_view rest(buffer_.data() + from, end_ - from);
  const std::size_t crlf = rest.find("\r\n");
  if (crlf == std::string_view::npos) {
    line_from_ = end_ > pos_ + 1 ? end_ - 1 : pos_ + 1;  // a '\r' may end this read
    if (length_type && end_ - pos_ > kMaxLengthLine) return Result::Corrupt;
    return Result::NeedMore;
  }
  const std::size_t line_end = from + crlf;
  const std::string_view line(buffer_.data() + pos_ + 1, line_end - pos_ - 1);
  if (top_ == 0 && owed_ == 1 && type != '|') top_ = type;
  pos_ = line_end + 2;
  line_from_ = pos_;
  if (!length_type) {
    settle();
    return Result::Frame;
  }
  std::int64_t length = 0;
  if (!parseLength(line, length)) return Result::Corrupt;
  if (length < 0) {
    // RESP2's null bulk and null array: nothing follows.
    if (length != -1 || (type != '$' && type != '*')) return Result::Corrupt;
    settle();
    return Result::Frame;
  }
  const auto count = static_cast<std::uint64_t>(length);
  switch (type) {
    case '$':
    case '!':
    case '=':
      body_end_ = pos_ + static_cast<std::size_t>(count) + 2;
      state_ = State::BulkBody;
      return Result::Frame;
    case '|':
      owed_ += 2 * count;  // pairs before the value they annotate, which is still owed
      break;
    case '%':
      owed_ = owed_ - 1 + 2 * count;
      break;
    default:  // '*', '~', '>'
      owed_ = owed_ - 1 + count;
      break;
  }
  return owed_ > kMaxOwed ? Result::Corrupt : Result::Frame;
}

ReplyFramer::Result ReplyFramer::next(std::string_view& frame, bool& is_error) {
  while (true) {
    if (owed_ == 0 && state_ == State::Header) {
      if (pos_ == end_) return Result::NeedMore;
      owed_ = 1;
      top_ = 0;
    }
    if (state_ == State::BulkBody) {
      if (end_ < body_end_) return Result::NeedMore;
      if (buffer_[body_end_ - 2] != '\r' || buffer_[body_end_ - 1] != '\n') return Result::Corrupt;
      pos_ = body_end_;
      line_from_ = pos_;
      state_ = State::Header;
      settle();
    } else {
      if (pos_ == end_) return Result::NeedMore;
      const Result step = header();
      if (step != Result::Frame) return step;
    }
    if (owed_ == 0 && state_ == State::Header) {
      frame = std::string_view(buffer_.data() + consumed_, pos_ - consumed_);
      consumed_ = pos_;
      kind_ = top_;
      is_error = top_ == '-' || top_ == '!';
      return Result::Frame;
    }
  }
}

}  // namespace rhp::proxy
