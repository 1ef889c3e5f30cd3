#include "config/memory_size.h"

#include <array>
#include <charconv>
#include <vector>

#include "commands/redis_match.h"

namespace rhp::config {

std::optional<std::uint64_t> parseRedisMemory(std::string_view text) {
  struct Unit {
    std::string_view suffix;
    std::uint64_t factor;
  };
  // Longest suffixes first, so "mb" is not read as "b".
  static constexpr std::array kUnits{
      Unit{"kb", 1024}, Unit{"mb", 1024ull * 1024}, Unit{"gb", 1024ull * 1024 * 1024},
      Unit{"k", 1000},  Unit{"m", 1000ull * 1000},  Unit{"g", 1000ull * 1000 * 1000},
      Unit{"b", 1},
  };
  std::uint64_t factor = 1;
  for (const Unit& unit : kUnits) {
    if (text.size() > unit.suffix.size() &&
        commands::redisKeywordEquals(text.substr(text.size() - unit.suffix.size()), unit.suffix)) {
      factor = unit.factor;
      text.remove_suffix(unit.suffix.size());
      break;
    }
  }
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (value > UINT64_MAX / factor) return std::nullopt;
  return value * factor;
}

std::optional<OutputBufferLimit> parseOutputBufferLimit(std::string_view text) {
  std::vector<std::string_view> words;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t start = text.find_first_not_of(' ', at);
    if (start == std::string_view::npos) break;
    const std::size_t stop = std::min(text.find(' ', start), text.size());
    words.push_back(text.substr(start, stop - start));
    at = stop;
  }
  if (words.size() != 3) return std::nullopt;
  const auto hard = parseRedisMemory(words[0]);
  const auto soft = parseRedisMemory(words[1]);
  std::uint32_t seconds = 0;
  const auto [end, ec] =
      std::from_chars(words[2].data(), words[2].data() + words[2].size(), seconds);
  if (!hard || !soft || ec != std::errc() || end != words[2].data() + words[2].size()) {
    return std::nullopt;
  }
  return OutputBufferLimit{*hard, *soft, seconds};
}

std::string formatOutputBufferLimit(const OutputBufferLimit& limit) {
  return std::to_string(limit.hard) + " " + std::to_string(limit.soft) + " " +
         std::to_string(limit.soft_seconds);
}

}  // namespace rhp::config
