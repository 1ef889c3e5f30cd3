#include "health/command_learner.h"

#include <spdlog/spdlog.h>

#include "health/command_rows.h"
#include "health/health_log.h"

namespace rhp::health {

void CommandLearner::learn(RedisLink& link, const config::Address& master,
                           std::function<void()> changed) {
  link.command({"COMMAND"}, [this, master, changed = std::move(changed)](const redisReply* reply) {
    if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) return;
    const std::vector<commands::CommandRow> rows = commandRows(reply);
    auto learned = std::make_shared<const commands::LearnedCommands>(rows);
    healthLog()->info("command table from master address={} commands={} beyond_builtin={}",
                      master.toString(), rows.size(), learned->size());
    learned_ = std::move(learned);
    changed();
  });
}

}  // namespace rhp::health
