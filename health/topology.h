#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "commands/command_table.h"
#include "config/address.h"

namespace rhp::health {

enum class MasterStatus {
  Starting,     // no answer from any sentinel yet
  Confirmed,    // a sentinel names the master and the node itself reports role:master
  Unconfirmed,  // sentinels answered, but the named node is down or not (yet) a master
  FailingOver,  // a failover of the master started: writes are fenced until it ends
  NoQuorum,     // fewer than a majority of the known sentinels answer
  NoSentinel,   // no sentinel reachable
  UnknownName,  // sentinels reachable, none monitors the configured master name
};

const char* toString(MasterStatus status);

/* A replica as the workers see it: only eligible ones get reads. */
struct ReplicaState {
  config::Address address;
  bool eligible = false;
  std::string reason;  // why not eligible
  std::int64_t lag_ms = 0;
};

/* Immutable snapshot published by the control thread to the workers. A new
 * version with the same master means "re-check": workers that suspected the
 * master may use it again. */
struct Topology {
  std::uint64_t version = 0;
  MasterStatus status = MasterStatus::Starting;
  std::optional<config::Address> master;  // set only when status == Confirmed
  /* When the ROLE question that last confirmed `master` was asked. An
   * answer a worker saw before this (a -READONLY) cannot mean a demotion
   * the monitor missed. */
  std::chrono::steady_clock::time_point master_role_asked_at{};
  /* The confirmed master answered ROLE with -BUSY: it runs a script past
   * busy-reply-threshold. It is still the master (no -MASTERDOWN; SCRIPT
   * KILL goes to it), but writes wait: sent now they would queue on the
   * connection behind the script and run after it, on this node, even if
   * Sentinel had failed it over meanwhile. */
  bool master_busy = false;
  std::vector<ReplicaState> replicas;  // Sentinel's replicas of the master
  /* Commands the master reported in COMMAND beyond the built-in table. */
  std::shared_ptr<const commands::LearnedCommands> learned_commands;
};

}  // namespace rhp::health
