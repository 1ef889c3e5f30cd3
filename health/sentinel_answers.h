#pragma once

#include <hiredis/hiredis.h>

#include <cstdint>
#include <optional>
#include <span>

#include "config/address.h"

namespace rhp::health {

/* One sentinel's view of the master in one poll. */
struct SentinelAnswer {
  bool reachable = false;
  bool knows_master = false;
  std::optional<config::Address> master;  // get-master-addr-by-name
  std::uint64_t epoch = 0;                // config-epoch from SENTINEL MASTER
  bool failover_in_progress = false;
  /* The leader of a failover keeps the old master in SENTINEL MASTER's
   * ip/port until the failover ends, while get-master-addr-by-name names
   * the promoted replica as soon as there is one: "in progress and both
   * name the same node" means "nothing promoted yet". */
  bool promoted_yet = false;
  std::uint64_t down_after_ms = 0;  // down-after-milliseconds, 0 if not reported
};

/* SENTINEL GET-MASTER-ADDR-BY-NAME's reply (nil when the name is unknown). */
void readMasterAddress(const redisReply* reply, SentinelAnswer& answer);
/* SENTINEL MASTER's reply (nullptr: no answer), after the address. */
void readMasterFields(const redisReply* reply, SentinelAnswer& answer);

/* What one poll's answers say together. */
struct PollTally {
  std::size_t reachable = 0;
  /* The answer to follow: the newest config epoch, and among the answers
   * with that epoch the address most of them name (ties: the first). */
  std::optional<std::size_t> newest;
  /* The shortest down-after-milliseconds any sentinel reports (0: none). */
  std::uint64_t down_after_ms = 0;
  /* A failover is in progress on `ours` with nothing promoted yet. */
  bool in_progress_on_ours = false;
  bool any_in_progress = false;
};

/* `ours`: the master the proxy follows now, if any. */
PollTally tallyPoll(std::span<const SentinelAnswer> answers,
                    const std::optional<config::Address>& ours);

}  // namespace rhp::health
