#include "health/replica_watcher.h"

#include "health/health_log.h"
#include "health/info_fields.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace rhp::health {

namespace {

std::optional<std::string_view> bulkText(const redisReply* reply) {
  if (reply == nullptr || reply->type != REDIS_REPLY_STRING) return std::nullopt;
  return std::string_view(reply->str, reply->len);
}

}  // namespace

ReplicaWatcher::ReplicaWatcher(uv_loop_t* loop, const config::Config& config,
                               RedisLink::Options link_options, ChangeCallback on_change,
                               ProgressCallback on_progress)
    : loop_(loop),
      config_(config),
      link_options_(std::move(link_options)),
      on_change_(std::move(on_change)),
      on_progress_(std::move(on_progress)),
      history_(historyLength(config)) {
  if (uv_timer_init(loop_, timer_.allocate()) != 0) {
    timer_.discardUninitialized();
    throw std::runtime_error("uv_timer_init failed");
  }
  timer_->data = this;
}

ReplicaWatcher::~ReplicaWatcher() {
  stop();
}

void ReplicaWatcher::start() {
  const auto interval = static_cast<std::uint64_t>(config_.routing.replica_check_interval.count());
  uv_timer_start(
      timer_.get(),
      [](uv_timer_t* timer) {
        if (timer->data != nullptr) static_cast<ReplicaWatcher*>(timer->data)->tick();
      },
      0, interval);
}

/* Long enough to tell a lag of max_replica_lag from anything shorter. */
std::chrono::milliseconds ReplicaWatcher::historyLength(const config::Config& config) {
  return config.routing.max_replica_lag * 2 + std::chrono::seconds(1);
}

void ReplicaWatcher::reconfigure(RedisLink::Options link_options) {
  if (stopped_) return;
  link_options_ = std::move(link_options);
  if (master_link_) master_link_->setOptions(link_options_);
  for (auto& replica : replicas_) {
    if (replica->link) replica->link->setOptions(link_options_);
  }
  history_.setKeep(historyLength(config_));
  start();  // uv_timer_start on a running timer restarts it with the new interval
}

void ReplicaWatcher::stop() {
  if (stopped_) return;
  stopped_ = true;
  timer_.reset();
  master_link_.reset();
  replicas_.clear();
}

void ReplicaWatcher::setMaster(const std::optional<config::Address>& master) {
  if (master == master_) return;
  master_ = master;
  history_.clear();
  asked_.clear();
  master_replid_.clear();
  ++master_epoch_;
  master_link_.reset();
  master_probe_outstanding_ = false;
  master_probe_ = MasterProbe::Silent;
  judgeAll();
}

void ReplicaWatcher::setListed(std::vector<Listed> listed) {
  bool changed = false;
  // Moved out first and destroyed last: destroying a link runs its pending
  // callbacks, which must find replicas_ consistent (and this one gone).
  std::vector<std::unique_ptr<Replica>> gone;
  for (auto& replica : replicas_) {
    const bool listed_now = std::any_of(listed.begin(), listed.end(), [&](const Listed& entry) {
      return entry.address == replica->observed.address;
    });
    if (!listed_now) {
      healthLog()->info("replica removed from sentinel's list address={}",
                        replica->observed.address.toString());
      gone.push_back(std::move(replica));
    }
  }
  std::erase(replicas_, nullptr);
  changed = !gone.empty();
  for (const auto& entry : listed) {
    auto found = std::find_if(replicas_.begin(), replicas_.end(), [&](const auto& replica) {
      return replica->observed.address == entry.address;
    });
    if (found == replicas_.end()) {
      auto replica = std::make_unique<Replica>();
      replica->observed.address = entry.address;
      replica->observed.flagged_down_by_sentinel = entry.flagged_down;
      replica->verdict.reason = "not probed yet";
      healthLog()->info("replica listed by sentinel address={} flagged_down={}",
                        entry.address.toString(), entry.flagged_down);
      replicas_.push_back(std::move(replica));
      changed = true;
      if (!stopped_) probe(*replicas_.back());
    } else {
      (*found)->observed.flagged_down_by_sentinel = entry.flagged_down;
    }
  }
  judgeAll();
  if (changed && on_change_) on_change_();
  gone.clear();
}

void ReplicaWatcher::setFlaggedDown(const config::Address& address, bool down) {
  for (auto& replica : replicas_) {
    if (replica->observed.address == address) replica->observed.flagged_down_by_sentinel = down;
  }
  judgeAll();
}

std::vector<ReplicaState> ReplicaWatcher::states() const {
  std::vector<ReplicaState> out;
  for (const auto& replica : replicas_) {
    out.push_back({replica->observed.address, replica->verdict.eligible, replica->verdict.reason,
                   replica->verdict.lag.count()});
  }
  return out;
}

void ReplicaWatcher::tick() {
  if (stopped_) return;
  probeMaster();
  for (auto& replica : replicas_) probe(*replica);
}

void ReplicaWatcher::probeMaster() {
  if (!master_ || master_probe_outstanding_) return;
  if (!master_link_) master_link_ = std::make_unique<RedisLink>(loop_, *master_, link_options_);
  master_probe_outstanding_ = true;
  const config::Address asked = *master_;
  const auto asked_at = Clock::now();
  master_link_->command({"INFO", "replication"}, [this, asked, asked_at](const redisReply* reply) {
    if (stopped_ || !master_ || !(*master_ == asked)) return;
    master_probe_outstanding_ = false;
    const auto text = bulkText(reply);
    const bool answers = text && infoField(*text, "role") == "master";
    const MasterProbe probe = answers ? MasterProbe::Answers : MasterProbe::Silent;
    if (probe != master_probe_) {
      healthLog()->info("master {} the replica probe address={}",
                        answers ? "answers" : "does not answer", asked.toString());
    }
    master_probe_ = probe;
    if (answers) {
      const std::uint64_t offset = infoNumber(infoField(*text, "master_repl_offset"));
      history_.record(Clock::now(), offset);
      // A master restarted at the same address starts a new history (and
      // its offsets over): the samples of the old one bound nothing.
      if (const std::string_view replid = infoField(*text, "master_replid");
          replid != master_replid_) {
        master_replid_ = std::string(replid);
        asked_.clear();
        ++master_epoch_;
      }
      asked_.push_back({asked_at, offset});
      // 8 samples: 2 s at the default 250 ms, older than any read still
      // waiting for one (a later sample is a correct bound too).
      while (asked_.size() > 8) asked_.pop_front();
    }
    judgeAll();
    publishProgress();
  });
}

void ReplicaWatcher::probe(Replica& replica) {
  if (replica.probe_outstanding) return;
  if (!replica.link) {
    replica.link = std::make_unique<RedisLink>(loop_, replica.observed.address, link_options_);
  }
  replica.probe_outstanding = true;
  Replica* target = &replica;
  replica.link->command({"INFO", "replication"}, [this, target](const redisReply* reply) {
    if (stopped_ || std::none_of(replicas_.begin(), replicas_.end(),
                                 [&](const auto& entry) { return entry.get() == target; })) {
      return;
    }
    target->probe_outstanding = false;
    ReplicaObservation& observed = target->observed;
    const auto text = bulkText(reply);
    observed.answered = text.has_value();
    if (text) {
      observed.role = std::string(infoField(*text, "role"));
      observed.replicating_from =
          config::makeAddress(infoField(*text, "master_host"), infoField(*text, "master_port"));
      observed.link_up = infoField(*text, "master_link_status") == "up";
      observed.sync_in_progress = infoField(*text, "master_sync_in_progress") == "1";
      observed.offset = infoNumber(infoField(*text, "slave_repl_offset"));
      observed.replid = std::string(infoField(*text, "master_replid"));
    }
    judgeAll();
    publishProgress();
  });
}

void ReplicaWatcher::publishProgress() {
  if (!on_progress_) return;
  ReplicationProgress progress;
  progress.master_epoch = master_epoch_;
  progress.master.assign(asked_.begin(), asked_.end());
  for (const auto& replica : replicas_) {
    // Only offsets in the master's own history: a replica still following
    // another node (or a full sync) counts in different numbers.
    const ReplicaObservation& seen = replica->observed;
    if (seen.answered && seen.link_up && !master_replid_.empty() && seen.replid == master_replid_ &&
        master_ && seen.replicating_from && *seen.replicating_from == *master_) {
      progress.replicas.emplace_back(seen.address, seen.offset);
    }
  }
  on_progress_(std::move(progress));
}

void ReplicaWatcher::judgeAll() {
  bool changed = false;
  const auto now = Clock::now();
  for (auto& replica : replicas_) {
    // A broken link counts against a replica only once the master's own
    // probe says it answers; while that probe (sent on the same tick) is
    // out, the replica keeps its verdict instead of flapping away from
    // reads for the moment the master's death is not yet known.
    if (!replica->observed.link_up && master_probe_outstanding_ && replica->verdict.eligible) {
      continue;
    }
    ReplicaVerdict verdict = master_ ? judgeReplica(replica->observed, *master_, master_probe_,
                                                    history_, now, config_.routing.max_replica_lag)
                                     : ReplicaVerdict{false, "no confirmed master", {}};
    if (replica->verdict.reason == "not probed yet" && !replica->observed.answered &&
        verdict.reason == "does not answer") {
      verdict.reason = "not probed yet";
    }
    if (!verdict.eligible && verdict.reason != replica->verdict.reason) {
      healthLog()->debug("replica not eligible address={} reason=\"{}\"",
                         replica->observed.address.toString(), verdict.reason);
    }
    if (verdict.eligible != replica->verdict.eligible) {
      changed = true;
      if (verdict.eligible) {
        healthLog()->info("replica eligible for reads address={} lag_ms={}",
                          replica->observed.address.toString(), verdict.lag.count());
      } else {
        healthLog()->warn("replica not eligible for reads address={} reason=\"{}\"",
                          replica->observed.address.toString(), verdict.reason);
      }
    }
    replica->verdict = std::move(verdict);
  }
  if (changed && on_change_) on_change_();
}

}  // namespace rhp::health
