#include "commands/redis_match.h"

#include <charconv>

#include <cstddef>
#include <utility>

namespace rhp::commands {

namespace {

char fold(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

/* tolower() as Redis calls it on a plain char promoted to int: glibc's
 * table maps -128..-2 (bytes 0x80..0xfe) to 128..254 and leaves -1 (EOF). */
int foldInt(int c) {
  if (c < -1) c += 256;
  return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

bool sameChar(char a, char b, bool nocase) {
  return nocase ? fold(a) == fold(b) : a == b;
}

/* One '[...]' class at pattern[p] (just after '['), tested against `c`.
 * Returns the index of the closing ']' (or the last byte when the class is
 * unterminated, which Redis treats as ending there) through `end`. */
bool classMatches(std::string_view pattern, std::size_t p, char c, bool nocase, std::size_t& end) {
  bool negate = false;
  if (p < pattern.size() && pattern[p] == '^') {
    negate = true;
    ++p;
  }
  bool match = false;
  while (true) {
    if (p >= pattern.size()) {
      // Unterminated: Redis steps back onto the last byte and stops.
      end = pattern.size() - 1;
      break;
    }
    if (pattern[p] == '\\' && pattern.size() - p >= 2) {
      ++p;
      if (pattern[p] == c) match = true;
    } else if (pattern[p] == ']') {
      end = p;
      break;
    } else if (pattern.size() - p >= 3 && pattern[p + 1] == '-') {
      // Redis compares plain (signed on x86) chars here and swaps before it
      // folds case, so a range with a byte above 0x7f spans what it does in
      // Redis: signed when case matters, glibc's tolower() values when not.
      int low = static_cast<signed char>(pattern[p]);
      int high = static_cast<signed char>(pattern[p + 2]);
      int value = static_cast<signed char>(c);
      if (low > high) std::swap(low, high);
      if (nocase) {
        low = foldInt(low);
        high = foldInt(high);
        value = foldInt(value);
      }
      p += 2;
      if (value >= low && value <= high) match = true;
    } else if (sameChar(pattern[p], c, nocase)) {
      match = true;
    }
    ++p;
  }
  return negate ? !match : match;
}

/* `give_up` is set when the rest of the pattern matched nowhere after a
 * '*': no longer match of an earlier '*' can help, which bounds the work
 * on patterns like "a*a*a*a*b" to polynomial time, as in Redis. */
bool matchFrom(std::string_view pattern, std::string_view text, bool nocase, bool& give_up) {
  std::size_t p = 0;
  std::size_t t = 0;
  while (p < pattern.size() && t < text.size()) {
    switch (pattern[p]) {
      case '*': {
        while (p + 1 < pattern.size() && pattern[p + 1] == '*') ++p;
        if (p + 1 == pattern.size()) return true;
        for (; t < text.size(); ++t) {
          if (matchFrom(pattern.substr(p + 1), text.substr(t), nocase, give_up)) return true;
          if (give_up) return false;
        }
        give_up = true;
        return false;
      }
      case '?':
        ++t;
        break;
      case '[': {
        std::size_t end = p;
        if (!classMatches(pattern, p + 1, text[t], nocase, end)) return false;
        p = end;
        ++t;
        break;
      }
      case '\\':
        if (pattern.size() - p >= 2) ++p;
        [[fallthrough]];
      default:
        if (!sameChar(pattern[p], text[t], nocase)) return false;
        ++t;
        break;
    }
    ++p;
    if (t == text.size()) {
      while (p < pattern.size() && pattern[p] == '*') ++p;
      break;
    }
  }
  return p == pattern.size() && t == text.size();
}

}  // namespace

bool redisKeywordEquals(std::string_view arg, std::string_view keyword) {
  const std::size_t nul = arg.find('\0');
  if (nul != std::string_view::npos) arg = arg.substr(0, nul);
  if (arg.size() != keyword.size()) return false;
  for (std::size_t i = 0; i < arg.size(); ++i) {
    if (fold(arg[i]) != keyword[i]) return false;
  }
  return true;
}

bool redisString2ll(std::string_view text, long long& out) {
  if (text.empty() || text.size() > 20) return false;
  if (text == "0") {
    out = 0;
    return true;
  }
  std::string_view digits = text;
  if (digits[0] == '-') digits.remove_prefix(1);
  if (digits.empty() || digits[0] < '1' || digits[0] > '9') return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

bool hasNul(std::string_view arg) {
  return arg.find('\0') != std::string_view::npos;
}

bool redisGlobMatches(std::string_view pattern, std::string_view text, bool nocase) {
  bool give_up = false;
  return matchFrom(pattern, text, nocase, give_up);
}

bool redisConfigGetMatches(std::string_view pattern, std::string_view parameter) {
  if (pattern.find_first_of("[*?") == std::string_view::npos) {
    return redisKeywordEquals(pattern, parameter);
  }
  return redisGlobMatches(pattern, parameter, true);
}

bool redisScanCursorIsZero(std::string_view cursor) {
  const std::size_t nul = cursor.find('\0');
  if (nul != std::string_view::npos) cursor = cursor.substr(0, nul);  // strtoul sees a C string
  if (cursor.empty()) return true;  // no digits: strtoul ends where it began, at the NUL
  if (cursor[0] == '+' || cursor[0] == '-') cursor.remove_prefix(1);
  return !cursor.empty() && cursor.find_first_not_of('0') == std::string_view::npos;
}

}  // namespace rhp::commands
