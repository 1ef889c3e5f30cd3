#include "health/sentinel_event.h"

#include <charconv>

namespace rhp::health {

namespace {

std::vector<std::string_view> words(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t space = text.find(' ', start);
    const std::size_t end = space == std::string_view::npos ? text.size() : space;
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool isOneOf(std::string_view channel, std::initializer_list<std::string_view> names) {
  for (auto name : names) {
    if (channel == name) return true;
  }
  return false;
}

}  // namespace

std::optional<SentinelEvent> parseSentinelEvent(std::string_view channel,
                                                std::string_view payload) {
  using Kind = SentinelEvent::Kind;
  const auto fields = words(payload);
  SentinelEvent event{};

  if (channel == "+new-epoch") {
    if (fields.size() != 1) return std::nullopt;
    auto [end, ec] =
        std::from_chars(fields[0].data(), fields[0].data() + fields[0].size(), event.epoch);
    if (ec != std::errc{}) return std::nullopt;
    event.kind = Kind::NewEpoch;
    return event;
  }
  if (channel == "+switch-master") {
    if (fields.size() != 5) return std::nullopt;
    event.kind = Kind::MasterSwitched;
    event.master_name = fields[0];
    event.master = config::makeAddress(fields[1], fields[2]);
    event.instance = config::makeAddress(fields[3], fields[4]);
    if (!event.master || !event.instance) return std::nullopt;
    return event;
  }
  if (fields.size() < 4) return std::nullopt;
  const bool about_master = fields[0] == "master";
  if (about_master) {
    event.master_name = fields[1];
    event.master = config::makeAddress(fields[2], fields[3]);
  } else {
    if (fields.size() < 8 || fields[4] != "@") return std::nullopt;
    event.instance = config::makeAddress(fields[2], fields[3]);
    event.master_name = fields[5];
    event.master = config::makeAddress(fields[6], fields[7]);
    if (!event.instance) return std::nullopt;
  }
  if (!event.master) return std::nullopt;

  if (about_master && isOneOf(channel, {"+sdown", "+odown"})) {
    event.kind = Kind::MasterDown;
  } else if (about_master && isOneOf(channel, {"+try-failover", "+elected-leader",
                                               "+failover-state-select-slave"})) {
    event.kind = Kind::FailoverStarted;
  } else if (!about_master &&
             isOneOf(channel, {"+selected-slave", "+failover-state-send-slaveof-noone",
                               "+failover-state-wait-promotion"})) {
    event.kind = Kind::ReplicaSelected;
  } else if (!about_master && channel == "+promoted-slave") {
    event.kind = Kind::ReplicaPromoted;
  } else if (about_master && isOneOf(channel, {"+failover-end", "+failover-end-for-timeout",
                                               "+failover-state-reconf-slaves"})) {
    event.kind = Kind::FailoverEnded;
  } else if (about_master && channel.starts_with("-failover-abort-")) {
    event.kind = Kind::FailoverAborted;
  } else if (!about_master && channel == "+convert-to-slave") {
    event.kind = Kind::ConvertedToReplica;
  } else if (fields[0] == "slave" && isOneOf(channel, {"+sdown", "-sdown", "+slave"})) {
    event.kind = channel == "+sdown"   ? Kind::ReplicaDown
                 : channel == "-sdown" ? Kind::ReplicaUp
                                       : Kind::ReplicaAdded;
  } else {
    return std::nullopt;
  }
  return event;
}

}  // namespace rhp::health
