#pragma once

#include <cstdint>
#include <string_view>

namespace rhp::health {

/* The value of `key` in INFO text ("key:value\r\n" lines, "# Section"
 * headers); empty when absent. A view into `info`. */
std::string_view infoField(std::string_view info, std::string_view key);

/* The leading decimal digits of `text` (an offset, a count); 0 without any.
 * Saturates at UINT64_MAX instead of wrapping (Redis's offsets are signed
 * 64-bit, so no real value comes near). */
std::uint64_t infoNumber(std::string_view text);

}  // namespace rhp::health
