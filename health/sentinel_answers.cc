#include "health/sentinel_answers.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "health/reply_view.h"

namespace rhp::health {

void readMasterAddress(const redisReply* reply, SentinelAnswer& answer) {
  if (reply != nullptr && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
      isString(reply->element[0]) && isString(reply->element[1])) {
    answer.master = config::makeAddress(view(reply->element[0]), view(reply->element[1]));
    answer.knows_master = answer.master.has_value();
  }
}

void readMasterFields(const redisReply* reply, SentinelAnswer& answer) {
  answer.reachable = reply != nullptr;
  std::string_view ip;
  std::string_view port;
  if (reply != nullptr && reply->type == REDIS_REPLY_ARRAY) {
    for (std::size_t f = 0; f + 1 < reply->elements; f += 2) {
      if (!isString(reply->element[f]) || !isString(reply->element[f + 1])) continue;
      const std::string_view key = view(reply->element[f]);
      const std::string_view value = view(reply->element[f + 1]);
      if (key == "config-epoch") {
        answer.epoch = std::strtoull(std::string(value).c_str(), nullptr, 10);
      } else if (key == "flags") {
        answer.failover_in_progress = value.find("failover_in_progress") != std::string_view::npos;
      } else if (key == "ip") {
        ip = value;
      } else if (key == "port") {
        port = value;
      } else if (key == "down-after-milliseconds") {
        answer.down_after_ms = std::strtoull(std::string(value).c_str(), nullptr, 10);
      }
    }
  }
  const auto configured = config::makeAddress(ip, port);
  answer.promoted_yet = answer.master && configured && !(*answer.master == *configured);
}

PollTally tallyPoll(std::span<const SentinelAnswer> answers,
                    const std::optional<config::Address>& ours) {
  PollTally tally;
  const SentinelAnswer* newest = nullptr;
  for (const auto& answer : answers) {
    if (!answer.reachable) continue;
    ++tally.reachable;
    if (answer.knows_master && (newest == nullptr || answer.epoch > newest->epoch)) {
      newest = &answer;
    }
  }
  if (newest != nullptr) {
    std::map<std::string, std::size_t> votes;
    for (const auto& answer : answers) {
      if (answer.knows_master && answer.epoch == newest->epoch) ++votes[answer.master->toString()];
    }
    for (const auto& answer : answers) {
      if (answer.knows_master && answer.epoch == newest->epoch &&
          votes[answer.master->toString()] > votes[newest->master->toString()]) {
        newest = &answer;
      }
    }
    tally.newest = static_cast<std::size_t>(newest - answers.data());
  }
  for (const auto& answer : answers) {
    if (answer.down_after_ms > 0 &&
        (tally.down_after_ms == 0 || answer.down_after_ms < tally.down_after_ms)) {
      tally.down_after_ms = answer.down_after_ms;
    }
    if (!answer.failover_in_progress) continue;
    tally.any_in_progress = true;
    if (ours && answer.knows_master && !answer.promoted_yet && *answer.master == *ours) {
      tally.in_progress_on_ours = true;
    }
  }
  return tally;
}

void ReplacedMasters::add(const config::Address& node, Clock::time_point at) {
  for (auto& entry : entries_) {
    if (entry.node == node) {
      entry.since = at;
      return;
    }
  }
  entries_.push_back({node, at});
}

bool ReplacedMasters::contains(const config::Address& node) const {
  return std::any_of(entries_.begin(), entries_.end(),
                     [&](const Entry& entry) { return entry.node == node; });
}

void ReplacedMasters::clearNamed(std::span<const SentinelAnswer> answers, std::size_t known,
                                 std::uint64_t floor, Clock::time_point asked_at) {
  std::erase_if(entries_, [&](const Entry& entry) {
    // Answers to a question asked before the sign predate it.
    if (!(entry.since < asked_at)) return false;
    const auto naming = std::count_if(answers.begin(), answers.end(), [&](const auto& answer) {
      return answer.knows_master && *answer.master == entry.node && answer.epoch >= floor;
    });
    return static_cast<std::size_t>(naming) * 2 > known;
  });
}

}  // namespace rhp::health
