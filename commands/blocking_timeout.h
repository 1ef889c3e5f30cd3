#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "commands/command_table.h"
#include "commands/route_request.h"

namespace rhp::commands {

/* A blocking request's timeout: which argument holds it, in which unit,
 * and its value in milliseconds (0: block for ever). */
struct TimeoutArgument {
  std::size_t index = 0;
  bool millis = false;  // XREAD BLOCK; else seconds, possibly fractional
  std::uint64_t value_ms = 0;
};

/* Where `spec` says the timeout is, read from the request. Nothing when the
 * command has none (or the option is absent), or the value is one Redis
 * will refuse (negative, not a number): the request then goes as it is. */
std::optional<TimeoutArgument> blockingTimeout(const CommandSpec& spec, const ArgAccess& args,
                                               std::size_t argc);

}  // namespace rhp::commands
