#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/address.h"

namespace rhp::health {

/* The Sentinel pub/sub channels that tell where a failover of a master is,
 * and which replicas are up.
 * Only the leader sentinel publishes the progress events, so the proxy
 * subscribes on every sentinel. */
inline constexpr std::string_view kFailoverChannels[] = {
    "+new-epoch",
    "+sdown",
    "-sdown",
    "+odown",
    "+slave",
    "+try-failover",
    "+elected-leader",
    "+failover-state-select-slave",
    "+selected-slave",
    "+failover-state-send-slaveof-noone",
    "+failover-state-wait-promotion",
    "+promoted-slave",
    "+failover-state-reconf-slaves",
    "+switch-master",
    "+failover-end",
    "+failover-end-for-timeout",
    "-failover-abort-not-elected",
    "-failover-abort-no-good-slave",
    "-failover-abort-slave-timeout",
    "+convert-to-slave",
};

struct SentinelEvent {
  enum class Kind {
    NewEpoch,            // +new-epoch <epoch>
    MasterDown,          // +sdown / +odown of the master
    FailoverStarted,     // +try-failover ... +failover-state-select-slave: fence the old master
    ReplicaSelected,     // +selected-slave ... wait-promotion: `instance` is being promoted
    ReplicaPromoted,     // +promoted-slave: `instance` is the new master
    MasterSwitched,      // +switch-master: `master` -> `instance`
    FailoverEnded,       // +failover-end, +failover-state-reconf-slaves, end-for-timeout
    FailoverAborted,     // -failover-abort-*
    ConvertedToReplica,  // +convert-to-slave: `instance` (an old master) rejoined as replica
    ReplicaDown,         // +sdown of replica `instance`
    ReplicaUp,           // -sdown of replica `instance`
    ReplicaAdded,        // +slave: Sentinel found replica `instance`
  };
  Kind kind;
  std::string master_name;
  std::optional<config::Address> master;    // the master the event is about
  std::optional<config::Address> instance;  // the replica concerned, or the new master
  std::uint64_t epoch = 0;                  // NewEpoch only
};

/* Parses one message. Formats (from sentinel.c):
 *   "master <name> <ip> <port>[ extra]"
 *   "<type> <name> <ip> <port> @ <master name> <master ip> <master port>[ extra]"
 *   +switch-master: "<name> <old ip> <old port> <new ip> <new port>"
 *   +new-epoch: "<epoch>"
 * Returns std::nullopt for channels and payloads it does not understand, or
 * events about a sentinel. */
std::optional<SentinelEvent> parseSentinelEvent(std::string_view channel, std::string_view payload);

}  // namespace rhp::health
