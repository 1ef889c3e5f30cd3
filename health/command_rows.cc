#include "health/command_rows.h"

#include <optional>
#include <string>

#include "health/reply_view.h"

namespace rhp::health {

namespace {

std::optional<commands::CommandRow> commandRow(const redisReply* entry) {
  if (entry == nullptr || entry->type != REDIS_REPLY_ARRAY || entry->elements < 4 ||
      !isString(entry->element[0]) || entry->element[1]->type != REDIS_REPLY_INTEGER ||
      entry->element[2]->type != REDIS_REPLY_ARRAY ||
      entry->element[3]->type != REDIS_REPLY_INTEGER) {
    return std::nullopt;
  }
  commands::CommandRow row;
  row.name = std::string(view(entry->element[0]));
  row.arity = entry->element[1]->integer;
  for (std::size_t i = 0; i < entry->element[2]->elements; ++i) {
    if (isString(entry->element[2]->element[i])) {
      row.flags.emplace_back(view(entry->element[2]->element[i]));
    }
  }
  row.first_key = entry->element[3]->integer;
  // Redis 7: element 6 lists the ACL categories the refusal policy reads.
  if (entry->elements > 6 && entry->element[6]->type == REDIS_REPLY_ARRAY) {
    for (std::size_t i = 0; i < entry->element[6]->elements; ++i) {
      if (isString(entry->element[6]->element[i])) {
        row.categories.emplace_back(view(entry->element[6]->element[i]));
      }
    }
  }
  if (entry->elements > 9 && entry->element[9]->type == REDIS_REPLY_ARRAY) {
    for (std::size_t i = 0; i < entry->element[9]->elements; ++i) {
      if (auto sub = commandRow(entry->element[9]->element[i])) row.subcommands.push_back(*sub);
    }
  }
  return row;
}

}  // namespace

std::vector<commands::CommandRow> commandRows(const redisReply* reply) {
  std::vector<commands::CommandRow> rows;
  if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) return rows;
  for (std::size_t i = 0; i < reply->elements; ++i) {
    if (auto row = commandRow(reply->element[i])) rows.push_back(std::move(*row));
  }
  return rows;
}

}  // namespace rhp::health
