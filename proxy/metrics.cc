#include "proxy/metrics.h"

#include <algorithm>

#include "router/errors.h"

namespace rhp::proxy {

void LatencyHistogram::observe(std::uint64_t micros) {
  const auto bound = std::lower_bound(kUpperBoundsMicros.begin(), kUpperBoundsMicros.end(), micros);
  buckets_[static_cast<std::size_t>(bound - kUpperBoundsMicros.begin())].add();
  sum_micros_.add(micros);
}

std::size_t commandClassIndex(router::TargetKind target) {
  return static_cast<std::size_t>(target);
}

std::string_view commandClassName(std::size_t index) {
  // Indexed by router::TargetKind.
  static constexpr std::array<std::string_view, kCommandClasses> kNames = {
      "master",   "read",   "scan",  "script_load", "transaction",
      "blocking", "pubsub", "local", "refused"};
  return index < kNames.size() ? kNames[index] : "unknown";
}

std::string_view errorKindName(std::size_t index) {
  static constexpr std::array<std::string_view, kErrorKinds> kNames = {
      "protocol",   "outcome_unknown", "timeout", "held_too_long", "refused",
      "no_replica", "aborted",         "auth",    "redis"};
  return index < kNames.size() ? kNames[index] : "unknown";
}

ErrorKind classifyError(std::string_view reply) {
  using namespace errors;
  auto is = [&](std::initializer_list<std::string_view> texts) {
    return std::find(texts.begin(), texts.end(), reply) != texts.end();
  };
  if (reply.starts_with("-ERR Protocol error")) return ErrorKind::Protocol;
  if (is({kMasterLostInFlight, kFailedOverInFlight})) return ErrorKind::OutcomeUnknown;
  if (is({kRequestTimeout})) return ErrorKind::Timeout;
  if (is({kHoldTimeout, kHoldFull, kNoSentinel, kNoSentinelMajority, kUnknownMaster,
          kReadOnlyRetriesExhausted})) {
    return ErrorKind::HeldTooLong;
  }
  if (is({kNoEligibleReplica})) return ErrorKind::NoReplica;
  if (is({kScanNodeGone, kTransactionAborted, kExecAbortedConnectionLost})) {
    return ErrorKind::Aborted;
  }
  if (is({kNoAuth, kWrongPass, kAuthNotConfigured})) return ErrorKind::Auth;
  if (reply.find("redis-ha-proxy") != std::string_view::npos) return ErrorKind::Refused;
  return ErrorKind::Redis;
}

NodeMetrics* WorkerMetrics::node(const config::Address& address, NodeRole role) {
  for (auto& slot : nodes) {
    if (!slot.in_use.load(std::memory_order_acquire)) {
      slot.address = address;
      slot.role = role;
      slot.in_use.store(true, std::memory_order_release);
      return &slot;
    }
    if (slot.role == role && slot.address == address) return &slot;
  }
  return nullptr;
}

UserMetrics* WorkerMetrics::user(std::string_view name) {
  for (auto& slot : users) {
    if (!slot.in_use.load(std::memory_order_acquire)) {
      slot.name = name;
      slot.in_use.store(true, std::memory_order_release);
      return &slot;
    }
    if (slot.name == name) return &slot;
  }
  return nullptr;
}

}  // namespace rhp::proxy
