#pragma once

#include <string>
#include <string_view>

#include "commands/refusal_policy.h"

namespace rhp::router {

/* The error line for a refused request; `command_name` is the table's name
 * ("config|set") when the command is known, `detail` is Route::detail. */
std::string refusalReply(commands::Refusal why, std::string_view command_name,
                         std::string_view detail = {});

/* redis-server's "wrong number of arguments" line for `command_name`. */
std::string wrongArityReply(std::string_view command_name);

}  // namespace rhp::router
