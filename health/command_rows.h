#pragma once

#include <hiredis/hiredis.h>

#include <vector>

#include "commands/command_table.h"

namespace rhp::health {

/* The rows of a Redis 7 COMMAND reply (name, arity, flags, first key, ACL
 * categories, subcommands); entries of another shape are skipped. What the
 * master reports about commands the built-in table lacks is learned from
 * these (commands::LearnedCommands). */
std::vector<commands::CommandRow> commandRows(const redisReply* reply);

}  // namespace rhp::health
