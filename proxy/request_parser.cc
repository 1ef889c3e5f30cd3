#include "proxy/request_parser.h"

#include "commands/redis_match.h"

#include <cctype>
#include <charconv>
#include <cstring>

#include "router/errors.h"

namespace rhp::proxy {

namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool isBlank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\0';
}

}  // namespace

void RequestParser::reset() {
  state_ = State::Start;
  pos_ = 0;
  remaining_args_ = 0;
  bulk_len_ = 0;
  frame_length_ = 0;
  inline_ = false;
  args_.clear();
  inline_args_.clear();
}

RequestParser::Result RequestParser::fail(std::string_view error) {
  error_.assign(error);
  return Result::ProtocolError;
}

std::size_t RequestParser::findLineEnd(std::string_view in, std::size_t from) const {
  const std::size_t cr = in.find('\r', from);
  if (cr == std::string_view::npos || cr + 1 >= in.size()) return std::string_view::npos;
  return cr;
}

/* Longer than 60 lines on purpose: one resumable state machine over the
 * multibulk header, each argument's length line and its bytes, with every
 * check redis-server's processMultibulkBuffer makes, in the order it makes
 * them (so errors match byte for byte). Split into functions, the state
 * would travel through each call on the hottest path of the proxy. */
RequestParser::Result RequestParser::parse(std::string_view in) {
  while (true) {
    switch (state_) {
      case State::Start: {
        if (in.empty()) return Result::NeedMore;
        if (in[0] != '*') {
          inline_ = true;
          state_ = State::Inline;
          break;
        }
        state_ = State::ArrayLen;
        break;
      }
      case State::ArrayLen: {
        const std::size_t cr = findLineEnd(in, 0);
        if (cr == std::string_view::npos) {
          if (in.size() > kMaxInlineLen) return fail(errors::kProtocolBigCount);
          return Result::NeedMore;
        }
        long long count = 0;
        if (!commands::redisString2ll(in.substr(1, cr - 1), count) ||
            count > static_cast<long long>(limits_.max_array_len)) {
          return fail(errors::kProtocolInvalidMultibulkLength);
        }
        pos_ = cr + 2;
        if (count <= 0) {
          frame_length_ = pos_;
          return Result::Complete;
        }
        remaining_args_ = static_cast<std::size_t>(count);
        // Reserve from what the client claims only up to a sane bound: the
        // count is untrusted until the arguments actually arrive.
        args_.reserve(std::min<std::size_t>(remaining_args_, 1024));
        state_ = State::BulkLen;
        break;
      }
      case State::BulkLen: {
        if (pos_ >= in.size()) return Result::NeedMore;
        if (in[pos_] != '$') {
          error_ = "-ERR Protocol error: expected '$', got '";
          error_ += std::isprint(static_cast<unsigned char>(in[pos_])) ? in[pos_] : '?';
          error_ += "'\r\n";
          return Result::ProtocolError;
        }
        const std::size_t cr = findLineEnd(in, pos_);
        if (cr == std::string_view::npos) {
          if (in.size() - pos_ > kMaxInlineLen) return fail(errors::kProtocolBigBulkCount);
          return Result::NeedMore;
        }
        long long length = 0;
        if (!commands::redisString2ll(in.substr(pos_ + 1, cr - pos_ - 1), length) || length < 0 ||
            static_cast<unsigned long long>(length) > limits_.max_bulk_len) {
          return fail(errors::kProtocolInvalidBulkLength);
        }
        bulk_len_ = static_cast<std::size_t>(length);
        pos_ = cr + 2;
        state_ = State::BulkBody;
        break;
      }
      case State::BulkBody: {
        if (in.size() < pos_ + bulk_len_ + 2) return Result::NeedMore;
        if (in[pos_ + bulk_len_] != '\r' || in[pos_ + bulk_len_ + 1] != '\n') {
          return fail(errors::kProtocolMissingCrlf);
        }
        args_.push_back({pos_, bulk_len_});
        pos_ += bulk_len_ + 2;
        if (--remaining_args_ == 0) {
          frame_length_ = pos_;
          return Result::Complete;
        }
        state_ = State::BulkLen;
        break;
      }
      case State::Inline:
        return parseInline(in);
    }
  }
}

RequestParser::Result RequestParser::parseInline(std::string_view in) {
  // Redis looks for the newline with strchr, which stops at a NUL: an
  // inline request with a NUL before its newline never completes there,
  // and fails once 64 KiB are buffered. The same here, so the proxy never
  // runs a line Redis would not (the differential test found it splitting
  // "a\0b" into two words).
  const std::size_t newline = in.find_first_of(std::string_view("\n\0", 2), pos_);
  if (newline == std::string_view::npos || in[newline] == '\0') {
    if (in.size() > kMaxInlineLen) return fail(errors::kProtocolBigInline);
    pos_ = newline == std::string_view::npos ? in.size() : newline;
    return Result::NeedMore;
  }
  std::string_view line = in.substr(0, newline);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (!splitInlineArgs(line, inline_args_)) return fail(errors::kProtocolUnbalancedQuotes);
  frame_length_ = newline + 1;
  return Result::Complete;
}

/* Longer than 60 lines on purpose: it follows sdssplitargs() in Redis's
 * sds.c case by case (quotes, escapes, \xHH, the closing-quote rule), so
 * that it can be read against it line by line. */
bool splitInlineArgs(std::string_view line, std::vector<std::string>& out) {
  out.clear();
  std::size_t i = 0;
  while (true) {
    while (i < line.size() && isBlank(line[i])) ++i;
    if (i >= line.size()) return true;
    std::string current;
    bool in_double = false;
    bool in_single = false;
    bool done = false;
    while (!done) {
      if (in_double) {
        if (i >= line.size()) return false;
        if (line[i] == '\\' && i + 3 < line.size() && line[i + 1] == 'x' &&
            hexValue(line[i + 2]) >= 0 && hexValue(line[i + 3]) >= 0) {
          current += static_cast<char>(hexValue(line[i + 2]) * 16 + hexValue(line[i + 3]));
          i += 3;
        } else if (line[i] == '\\' && i + 1 < line.size()) {
          ++i;
          switch (line[i]) {
            case 'n':
              current += '\n';
              break;
            case 'r':
              current += '\r';
              break;
            case 't':
              current += '\t';
              break;
            case 'b':
              current += '\b';
              break;
            case 'a':
              current += '\a';
              break;
            default:
              current += line[i];
              break;
          }
        } else if (line[i] == '"') {
          // A closing quote must be followed by a blank or the end.
          if (i + 1 < line.size() && !isBlank(line[i + 1])) return false;
          done = true;
        } else {
          current += line[i];
        }
      } else if (in_single) {
        if (i >= line.size()) return false;
        if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '\'') {
          ++i;
          current += '\'';
        } else if (line[i] == '\'') {
          if (i + 1 < line.size() && !isBlank(line[i + 1])) return false;
          done = true;
        } else {
          current += line[i];
        }
      } else {
        if (i >= line.size() || isBlank(line[i])) {
          done = true;
        } else if (line[i] == '"') {
          in_double = true;
        } else if (line[i] == '\'') {
          in_single = true;
        } else {
          current += line[i];
        }
      }
      if (i < line.size()) ++i;
    }
    out.push_back(std::move(current));
  }
}

}  // namespace rhp::proxy
