#pragma once

#include <functional>
#include <memory>

#include "commands/command_table.h"
#include "config/address.h"
#include "health/redis_link.h"

namespace rhp::health {

/* The master's own command table. Newer servers and modules have commands
 * the built-in table (Redis 7.0) lacks; their flags and ACL categories come
 * from the master itself, so they are routed and refused by what they are
 * rather than sent to the master as unknown. Asked once per new master. */
class CommandLearner {
 public:
  /* Sends COMMAND on `link` (the master's); once it answers, learned()
   * holds its rows beyond the built-in table and `changed` runs. */
  void learn(RedisLink& link, const config::Address& master, std::function<void()> changed);

  std::shared_ptr<const commands::LearnedCommands> learned() const { return learned_; }

 private:
  std::shared_ptr<const commands::LearnedCommands> learned_;
};

}  // namespace rhp::health
