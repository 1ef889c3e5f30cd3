#pragma once

#include <charconv>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>

namespace rhp::commands {

/* A command as Redis reads it: a RESP array of bulk strings. The one
 * encoder for every request the proxy writes itself (its AUTH, SELECT,
 * ROLE, resubscriptions, re-encoded inline requests). */

inline void appendRespHeader(std::string& out, char type, std::size_t count) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, count).ptr;
  out += type;
  out.append(digits, end);
  out += "\r\n";
}

inline void appendBulk(std::string& out, std::string_view value) {
  appendRespHeader(out, '$', value.size());
  out += value;
  out += "\r\n";
}

/* One bulk string reply: $<length>\r\n<bytes>\r\n. */
inline std::string bulkString(std::string_view value) {
  std::string out;
  appendBulk(out, value);
  return out;
}

/* Appends `args` (any range of string-like values) as one command. */
template <class Range>
void appendCommand(std::string& out, const Range& args) {
  appendRespHeader(out, '*', std::size(args));
  for (const auto& arg : args) appendBulk(out, arg);
}

inline std::string respCommand(std::initializer_list<std::string_view> args) {
  std::string out;
  appendCommand(out, args);
  return out;
}

}  // namespace rhp::commands
