#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rhp::config {

/* A size the way redis.conf writes it (memtoull): a number with an optional
 * unit, case-insensitive: b, k = 1000, kb = 1024, m = 1000^2, mb = 1024^2,
 * g = 1000^3, gb = 1024^3. "32mb" is 33554432. */
std::optional<std::uint64_t> parseRedisMemory(std::string_view text);

/* Redis's `client-output-buffer-limit <class> <hard> <soft> <soft-seconds>`
 * for one class: the client is closed once its unsent replies reach `hard`,
 * or stay at or above `soft` for `soft_seconds`. 0 turns a limit off. */
struct OutputBufferLimit {
  std::uint64_t hard = 0;
  std::uint64_t soft = 0;
  std::uint32_t soft_seconds = 0;
  bool operator==(const OutputBufferLimit&) const = default;
};

/* "32mb 8mb 60" (Redis's syntax for one class, without the class name). */
std::optional<OutputBufferLimit> parseOutputBufferLimit(std::string_view text);
/* Back to that syntax, in bytes: "33554432 8388608 60", as CONFIG GET shows it. */
std::string formatOutputBufferLimit(const OutputBufferLimit& limit);

}  // namespace rhp::config
