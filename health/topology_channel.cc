#include "health/topology_channel.h"

namespace rhp::health {

const char* toString(MasterStatus status) {
  switch (status) {
    case MasterStatus::Starting:
      return "starting";
    case MasterStatus::Confirmed:
      return "confirmed";
    case MasterStatus::Unconfirmed:
      return "unconfirmed";
    case MasterStatus::FailingOver:
      return "failing-over";
    case MasterStatus::NoQuorum:
      return "no-sentinel-majority";
    case MasterStatus::NoSentinel:
      return "no-sentinel";
    case MasterStatus::UnknownName:
      return "unknown-master-name";
  }
  return "?";
}

TopologyChannel::TopologyChannel() : snapshot_(std::make_shared<const Topology>()) {}

void TopologyChannel::publish(Topology next) {
  next.version = snapshot_.load()->version + 1;
  snapshot_.store(std::make_shared<const Topology>(std::move(next)));
  for (const auto& wake : subscribers_) wake();
}

void TopologyChannel::publishConfig(config::Config config) {
  config_.store(std::make_shared<const config::Config>(std::move(config)));
  for (const auto& wake : subscribers_) wake();
}

void TopologyChannel::requestRediscovery() const {
  if (rediscover_) rediscover_();
}

}  // namespace rhp::health
