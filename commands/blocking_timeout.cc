#include "commands/blocking_timeout.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <string>

#include "commands/redis_match.h"

namespace rhp::commands {

namespace {

/* As Redis's getTimeoutFromObjectOrReply reads seconds: string2ld (no
 * leading blank, nothing after the number), then ceil of the milliseconds,
 * so 0.0009 is 1 ms, not 0 (for ever). */
std::optional<std::uint64_t> seconds(std::string_view text) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text[0]))) return std::nullopt;
  const std::string copy(text);
  char* end = nullptr;
  const long double value = std::strtold(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || !std::isfinite(value) || value < 0) {
    return std::nullopt;
  }
  return static_cast<std::uint64_t>(std::ceil(value * 1000));
}

/* XREAD's BLOCK: string2ll, as getLongLongFromObjectOrReply reads it. */
std::optional<std::uint64_t> millis(std::string_view text) {
  long long value = 0;
  if (!redisString2ll(text, value) || value < 0) return std::nullopt;
  return static_cast<std::uint64_t>(value);
}

}  // namespace

std::optional<TimeoutArgument> blockingTimeout(const CommandSpec& spec, const ArgAccess& args,
                                               std::size_t argc) {
  TimeoutArgument out;
  std::optional<std::uint64_t> value;
  switch (spec.block_timeout) {
    case BlockTimeout::None:
      return std::nullopt;
    case BlockTimeout::FirstSeconds:
    case BlockTimeout::LastSeconds:
      if (argc < 2) return std::nullopt;
      out.index = spec.block_timeout == BlockTimeout::FirstSeconds ? 1 : argc - 1;
      value = seconds(args[out.index]);
      break;
    case BlockTimeout::BlockMillis:
      // XREAD and XREADGROUP options, read as xreadCommand does, up to
      // STREAMS: a key, a group or a consumer may be named "block".
      for (std::size_t i = 1; i + 1 < argc && !value;) {
        if (redisKeywordEquals(args[i], "block")) {
          out.index = i + 1;
          out.millis = true;
          value = millis(args[out.index]);
          if (!value) return std::nullopt;
        } else if (redisKeywordEquals(args[i], "count")) {
          i += 2;
        } else if (redisKeywordEquals(args[i], "group")) {
          i += 3;
        } else if (redisKeywordEquals(args[i], "noack")) {
          i += 1;
        } else {
          return std::nullopt;  // STREAMS, or what Redis will refuse
        }
      }
      break;
  }
  if (!value) return std::nullopt;
  out.value_ms = *value;
  return out;
}

}  // namespace rhp::commands
