#include "proxy/pubsub_tracker.h"

#include "commands/resp_array.h"

#include <algorithm>

namespace rhp::proxy {

namespace {

std::size_t subscribe(std::set<std::string>& set, const std::vector<std::string_view>& arguments) {
  for (auto argument : arguments) set.emplace(argument);
  return arguments.size();
}

std::size_t unsubscribe(std::set<std::string>& set,
                        const std::vector<std::string_view>& arguments) {
  if (arguments.empty()) {
    // One confirmation per subscription dropped, or one saying "none".
    const std::size_t frames = std::max<std::size_t>(1, set.size());
    set.clear();
    return frames;
  }
  for (auto argument : arguments) set.erase(std::string(argument));
  return arguments.size();
}

void appendCommand(std::string& out, std::string_view name, const std::set<std::string>& args) {
  commands::appendRespHeader(out, '*', args.size() + 1);
  commands::appendBulk(out, name);
  for (const auto& arg : args) commands::appendBulk(out, arg);
}

}  // namespace

std::size_t PubSubTracker::apply(std::string_view name,
                                 const std::vector<std::string_view>& arguments) {
  if (name == "subscribe") return subscribe(channels_, arguments);
  if (name == "psubscribe") return subscribe(patterns_, arguments);
  if (name == "ssubscribe") return subscribe(shards_, arguments);
  if (name == "unsubscribe") return unsubscribe(channels_, arguments);
  if (name == "punsubscribe") return unsubscribe(patterns_, arguments);
  if (name == "sunsubscribe") return unsubscribe(shards_, arguments);
  if (name == "reset") clear();
  return 1;  // PING, RESET, or an error from Redis for anything else
}

bool PubSubTracker::isMessage(std::string_view frame) {
  if (frame.empty() || (frame[0] != '*' && frame[0] != '>')) return false;
  frame.remove_prefix(1);  // the same shape as an array or as a push
  return frame.starts_with("3\r\n$7\r\nmessage\r\n") ||
         frame.starts_with("4\r\n$8\r\npmessage\r\n") ||
         frame.starts_with("3\r\n$8\r\nsmessage\r\n");
}

bool PubSubTracker::isConfirmation(std::string_view frame) {
  if (!frame.starts_with('>')) return !isMessage(frame);
  // Runs for every push (each message, each invalidation): fixed headers,
  // nothing built.
  static constexpr std::string_view kConfirmations[] = {
      ">3\r\n$9\r\nsubscribe\r\n",   ">3\r\n$11\r\nunsubscribe\r\n",
      ">3\r\n$10\r\npsubscribe\r\n", ">3\r\n$12\r\npunsubscribe\r\n",
      ">3\r\n$10\r\nssubscribe\r\n", ">3\r\n$12\r\nsunsubscribe\r\n"};
  for (std::string_view head : kConfirmations) {
    if (frame.starts_with(head)) return true;
  }
  return false;
}

std::string PubSubTracker::resubscribeCommands(std::size_t& frames) const {
  std::string out;
  if (!channels_.empty()) appendCommand(out, "SUBSCRIBE", channels_);
  if (!patterns_.empty()) appendCommand(out, "PSUBSCRIBE", patterns_);
  if (!shards_.empty()) appendCommand(out, "SSUBSCRIBE", shards_);
  frames = channels_.size() + patterns_.size() + shards_.size();
  return out;
}

void PubSubTracker::clear() {
  channels_.clear();
  patterns_.clear();
  shards_.clear();
}

}  // namespace rhp::proxy
