#pragma once

#include <hiredis/hiredis.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

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

/* Masters the proxy has seen being replaced: a failover of one started, or
 * the proxy followed the sentinels from it to another node. Such a node
 * must not get writes again on the word of one sentinel, one event or its
 * own ROLE answer: the old master keeps saying ROLE master until Sentinel
 * converts it, seconds later, and whatever it acknowledges until then is
 * lost. Seen in the lab under load: one sentinel answered a poll's two
 * questions either side of its own switch to the new configuration, so
 * get-master-addr-by-name named the old master and SENTINEL MASTER gave the
 * new config epoch; the proxy, already on the promoted replica at that
 * epoch, moved writes back to the old master. A node here is trusted again
 * only when more than half of the known sentinels, asked after it was
 * replaced, name it at a config epoch at least as new as any seen. */
class ReplacedMasters {
 public:
  using Clock = std::chrono::steady_clock;

  void add(const config::Address& node, Clock::time_point at);
  bool contains(const config::Address& node) const;
  /* One poll's answers, asked at `asked_at` of `known` sentinels; `floor`
   * is the newest config epoch seen, this poll's included. */
  void clearNamed(std::span<const SentinelAnswer> answers, std::size_t known, std::uint64_t floor,
                  Clock::time_point asked_at);

 private:
  struct Entry {
    config::Address node;
    Clock::time_point since;  // the latest sign that it was being replaced
  };
  std::vector<Entry> entries_;
};

}  // namespace rhp::health
