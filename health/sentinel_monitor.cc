#include "health/sentinel_monitor.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

#include "health/health_log.h"
#include "health/link_options.h"
#include "health/reply_view.h"

namespace rhp::health {

namespace {

/* While writes are held every 100 ms of delay is visible to clients, so
 * the sentinels are polled faster than the configured interval. */
constexpr std::chrono::milliseconds kUrgentPollInterval{100};

std::string describe(const std::optional<config::Address>& address) {
  return address ? address->toString() : "none";
}

}  // namespace

SentinelMonitor::SentinelMonitor(uv_loop_t* loop, const config::Config& config,
                                 TopologyChannel& channel)
    : loop_(loop),
      config_(config),
      channel_(channel),
      promotion_(
          loop, [this](const config::Address& node) -> RedisLink& { return nodeLink(node); },
          [this](const config::Address& promoted) {
            adopt(promoted, std::max(newest_epoch_, view_ ? view_->epoch + 1 : 0),
                  "promotion of " + promoted.toString() + " seen with ROLE");
          }),
      lease_(
          loop, channel, config, [this] { return sentinels_.size(); },
          [this](std::size_t index, std::function<void(bool)> answered) {
            ping(index, std::move(answered));
          },
          [this] {
            if (!stopped_) publish();
          }) {
  linkOptionsFromConfig();
  if (uv_timer_init(loop_, poll_timer_.allocate()) != 0) {
    poll_timer_.discardUninitialized();
    throw std::runtime_error("uv_timer_init failed");
  }
  poll_timer_->data = this;
  if (uv_async_init(loop_, wakeup_.allocate(), [](uv_async_t* async) {
        auto* self = static_cast<SentinelMonitor*>(async->data);
        if (self != nullptr && self->rediscovery_requested_.exchange(false)) {
          self->poll("worker report");
        }
      }) != 0) {
    wakeup_.discardUninitialized();
    throw std::runtime_error("uv_async_init failed");
  }
  wakeup_->data = this;
  for (const auto& address : config.sentinel.addresses) addSentinel(address);
  replicas_ = std::make_unique<ReplicaWatcher>(
      loop_, config_, node_options_,
      [this] {
        if (!stopped_) publish();
      },
      [this](ReplicationProgress progress) { channel_.publishProgress(std::move(progress)); });
}

SentinelMonitor::~SentinelMonitor() {
  stop();
}

void SentinelMonitor::linkOptionsFromConfig() {
  sentinel_options_ = sentinelLinkOptions(config_, sentinel_options_, sentinel_tls_failures_);
  node_options_ = nodeLinkOptions(config_, node_options_, node_tls_failures_);
}

void SentinelMonitor::reconfigure(const config::Config& next) {
  if (stopped_) return;
  config_ = next;
  linkOptionsFromConfig();
  for (auto& sentinel : sentinels_) {
    if (sentinel->commands) sentinel->commands->setOptions(sentinel_options_);
    if (sentinel->events) sentinel->events->setOptions(sentinel_options_);
  }
  for (auto& node : nodes_) node->setOptions(node_options_);
  replicas_->reconfigure(node_options_);
  for (const auto& address : config_.sentinel.addresses) addSentinel(address);

  lease_.reconfigure(config_);
  poll("reload");
}

void SentinelMonitor::start() {
  for (auto& sentinel : sentinels_) subscribe(*sentinel);
  replicas_->start();
  lease_.start();
  poll("startup");
}

/* A PING for the lease (LeaseKeeper); a sentinel that has not answered
 * the last one is not asked again (its silence is the point). */
void SentinelMonitor::ping(std::size_t index, std::function<void(bool up)> answered) {
  Sentinel& sentinel = *sentinels_[index];
  if (!sentinel.commands) {
    sentinel.commands = std::make_unique<RedisLink>(loop_, sentinel.address, sentinel_options_);
  }
  if (sentinel.ping_outstanding) return;
  sentinel.ping_outstanding = true;
  sentinel.commands->command(
      {"PING"}, [this, index, answered = std::move(answered)](const redisReply* reply) {
        if (stopped_) return;
        sentinels_[index]->ping_outstanding = false;
        sentinels_[index]->up = reply != nullptr && reply->type != REDIS_REPLY_ERROR;
        answered(sentinels_[index]->up);
      });
}

void SentinelMonitor::stop() {
  if (stopped_) return;
  stopped_ = true;
  poll_timer_.reset();
  promotion_.stop();
  lease_.stop();
  wakeup_.reset();
  sentinels_.clear();
  nodes_.clear();
  replicas_->stop();
}

void SentinelMonitor::requestRediscovery() {
  rediscovery_requested_.store(true);
  // uv_async_send is the one libuv call that is safe from other threads.
  if (wakeup_) uv_async_send(wakeup_.get());
}

SentinelMonitor::Stats SentinelMonitor::stats() const {
  Stats stats;
  for (const auto& sentinel : sentinels_) {
    stats.sentinels.push_back({sentinel->address.toString(), sentinel->up});
  }
  stats.failovers = failovers_;
  stats.master_changes = master_changes_;
  stats.write_lease_valid = !config_.sentinel.require_sentinel_majority ||
                            channel_.writeLeaseValid(WriteLease::Clock::now());
  stats.status = status_;
  stats.sentinel_tls_failures = sentinel_tls_failures_;
  stats.node_tls_failures = node_tls_failures_;
  return stats;
}

void SentinelMonitor::schedulePoll(std::chrono::milliseconds delay) {
  if (stopped_) return;
  uv_timer_start(
      poll_timer_.get(),
      [](uv_timer_t* timer) {
        if (timer->data != nullptr) static_cast<SentinelMonitor*>(timer->data)->poll("interval");
      },
      static_cast<uint64_t>(delay.count()), 0);
}

void SentinelMonitor::poll(const char* trigger) {
  if (stopped_) return;
  if (std::string_view(trigger) == "worker report") publish_after_poll_ = true;
  if (poll_running_) {
    poll_again_ = true;
    return;
  }
  poll_running_ = true;
  const std::uint64_t id = ++poll_id_;
  answers_.assign(sentinels_.size(), SentinelAnswer{});
  answers_pending_ = sentinels_.size();
  poll_asked_at_ = WriteLease::Clock::now();
  SPDLOG_LOGGER_TRACE(healthLog(), "poll id={} trigger={}", id, trigger);
  for (std::size_t i = 0; i < answers_.size(); ++i) {
    Sentinel& sentinel = *sentinels_[i];
    if (!sentinel.commands) {
      sentinel.commands = std::make_unique<RedisLink>(loop_, sentinel.address, sentinel_options_);
    }
    if (!sentinel.events) subscribe(sentinel);
    // Both go down the same link, so their replies arrive in this order.
    sentinel.commands->command(
        {"SENTINEL", "get-master-addr-by-name", config_.sentinel.master_name},
        [this, i, id](const redisReply* reply) {
          if (stopped_ || id != poll_id_) return;
          readMasterAddress(reply, answers_[i]);
        });
    sentinel.commands->command({"SENTINEL", "MASTER", config_.sentinel.master_name},
                               [this, i, id](const redisReply* reply) {
                                 if (stopped_ || id != poll_id_) return;
                                 SentinelAnswer& answer = answers_[i];
                                 readMasterFields(reply, answer);
                                 sentinels_[i]->up = answer.reachable;
                                 if (answer.reachable) lease_.answered(i, poll_asked_at_);
                                 if (--answers_pending_ == 0) finishPoll();
                               });
  }
  if (answers_.empty()) finishPoll();
}

void SentinelMonitor::finishPoll() {
  poll_running_ = false;
  const std::optional<config::Address> ours =
      view_ ? std::optional<config::Address>(view_->master) : std::nullopt;
  const PollTally tally = tallyPoll(answers_, ours);
  // The first sentinel that answered tells who the others are.
  for (std::size_t i = 0; i < answers_.size(); ++i) {
    if (!answers_[i].reachable) continue;
    refreshSentinels(*sentinels_[i]);
    break;
  }
  const std::size_t reachable = tally.reachable;
  const std::size_t known = sentinels_.size();
  lease_.adjust(tally.down_after_ms);
  const SentinelAnswer* newest = tally.newest ? &answers_[*tally.newest] : nullptr;
  if (newest != nullptr) refreshReplicas(*sentinels_[*tally.newest]);

  if (reachable == 0) {
    setStatus(MasterStatus::NoSentinel,
              "no sentinel reachable (" + std::to_string(known) + " known)");
  } else if (newest == nullptr) {
    setStatus(MasterStatus::UnknownName,
              "no sentinel monitors master name '" + config_.sentinel.master_name + "'");
  } else {
    // A replaced master is adopted again only with a majority behind it,
    // at the newest config epoch seen (not +new-epoch's: an election that
    // fails raises that, and no configuration ever carries it).
    replaced_.clearNamed(answers_, known, std::max(newest->epoch, view_ ? view_->epoch : 0),
                         poll_asked_at_);
    // Sentinel's newest configuration wins; an older one never does.
    if (!view_ || newest->epoch > view_->epoch ||
        (newest->epoch == view_->epoch && !(*newest->master == view_->master))) {
      adopt(*newest->master, newest->epoch, "poll, config epoch " + std::to_string(newest->epoch));
    }
    // Adopting may have changed which master is ours.
    const PollTally now = tallyPoll(answers_, view_->master);
    if (now.in_progress_on_ours) {
      fence("poll: a sentinel reports failover_in_progress");
    } else if (fenced_ && !now.any_in_progress && !promotion_.watching()) {
      fenced_ = false;
      healthLog()->warn("failover ended without a new master group={} master={}",
                        config_.sentinel.master_name, view_->master.toString());
    }
    const bool majority = !config_.sentinel.require_sentinel_majority || reachable * 2 > known;
    if (!majority) {
      setStatus(MasterStatus::NoQuorum, "only " + std::to_string(reachable) + " of " +
                                            std::to_string(known) + " sentinels reachable");
    } else if (fenced_) {
      setStatus(MasterStatus::FailingOver, "failover of " + view_->master.toString());
    } else {
      confirm("poll");
    }
  }
  // While the master is busy, look every 100 ms: writes resume that soon
  // after the script ends.
  const bool settled = status_ == MasterStatus::Confirmed && !fenced_ && !master_busy_;
  schedulePoll(settled ? config_.sentinel.poll_interval : kUrgentPollInterval);
  if (poll_again_) {
    poll_again_ = false;
    poll("coalesced");
  }
}

void SentinelMonitor::refreshSentinels(Sentinel& sentinel) {
  sentinel.commands->command(
      {"SENTINEL", "SENTINELS", config_.sentinel.master_name}, [this](const redisReply* reply) {
        if (stopped_ || reply == nullptr || reply->type != REDIS_REPLY_ARRAY) return;
        for (std::size_t i = 0; i < reply->elements; ++i) {
          const redisReply* fields = reply->element[i];
          if (fields->type != REDIS_REPLY_ARRAY) continue;
          std::string_view ip;
          std::string_view port;
          for (std::size_t f = 0; f + 1 < fields->elements; f += 2) {
            if (!isString(fields->element[f]) || !isString(fields->element[f + 1])) continue;
            if (view(fields->element[f]) == "ip") ip = view(fields->element[f + 1]);
            if (view(fields->element[f]) == "port") port = view(fields->element[f + 1]);
          }
          if (auto address = config::makeAddress(ip, port)) addSentinel(*address);
        }
      });
}

void SentinelMonitor::refreshReplicas(Sentinel& sentinel) {
  sentinel.commands->command(
      {"SENTINEL", "REPLICAS", config_.sentinel.master_name}, [this](const redisReply* reply) {
        if (stopped_ || reply == nullptr || reply->type != REDIS_REPLY_ARRAY) return;
        std::vector<ReplicaWatcher::Listed> listed;
        for (std::size_t i = 0; i < reply->elements; ++i) {
          const redisReply* fields = reply->element[i];
          if (fields->type != REDIS_REPLY_ARRAY) continue;
          std::string_view ip;
          std::string_view port;
          std::string_view flags;
          for (std::size_t f = 0; f + 1 < fields->elements; f += 2) {
            if (!isString(fields->element[f]) || !isString(fields->element[f + 1])) continue;
            const std::string_view key = view(fields->element[f]);
            if (key == "ip") ip = view(fields->element[f + 1]);
            if (key == "port") port = view(fields->element[f + 1]);
            if (key == "flags") flags = view(fields->element[f + 1]);
          }
          auto address = config::makeAddress(ip, port);
          if (!address) continue;
          const bool down = flags.find("s_down") != std::string_view::npos ||
                            flags.find("o_down") != std::string_view::npos ||
                            flags.find("disconnected") != std::string_view::npos;
          listed.push_back({*address, down});
        }
        replicas_->setListed(std::move(listed));
      });
}

void SentinelMonitor::addSentinel(const config::Address& address) {
  for (const auto& known : sentinels_) {
    if (known->address == address) return;
  }
  if (!sentinels_.empty()) {
    healthLog()->info("discovered sentinel address={} known={}", address.toString(),
                      sentinels_.size() + 1);
  }
  auto sentinel = std::make_unique<Sentinel>();
  sentinel->address = address;
  sentinels_.push_back(std::move(sentinel));
  if (poll_id_ > 0) subscribe(*sentinels_.back());
}

void SentinelMonitor::subscribe(Sentinel& sentinel) {
  sentinel.events = std::make_unique<RedisLink>(loop_, sentinel.address, sentinel_options_);
  const config::Address from = sentinel.address;
  std::vector<std::string> channels(std::begin(kFailoverChannels), std::end(kFailoverChannels));
  sentinel.events->subscribe(
      std::move(channels),
      [this, from](std::string_view channel, std::string_view payload) {
        onEvent(from, channel, payload);
      },
      [this](bool connected) {
        // Events may have been missed while the subscription was down.
        if (connected) poll("resubscribed");
      });
}

void SentinelMonitor::onEvent(const config::Address& from, std::string_view channel,
                              std::string_view payload) {
  auto event = parseSentinelEvent(channel, payload);
  if (!event) return;
  using Kind = SentinelEvent::Kind;
  if (event->kind == Kind::NewEpoch) {
    newest_epoch_ = std::max(newest_epoch_, event->epoch);
    return;
  }
  if (event->master_name != config_.sentinel.master_name) return;
  const std::string trigger = std::string(channel) + " from sentinel " + from.toString();
  const bool about_ours = view_ && event->master && *event->master == view_->master;
  // The epoch of the configuration a promotion creates: Sentinel bumps it
  // for the failover, and announces it with +new-epoch first.
  const std::uint64_t next_epoch = std::max(newest_epoch_, view_ ? view_->epoch + 1 : 0);
  switch (event->kind) {
    case Kind::FailoverStarted:
      if (about_ours) fence(trigger);
      poll(trigger.c_str());
      break;
    case Kind::ReplicaSelected:
      if (about_ours) {
        fence(trigger);
        // A replaced master says ROLE master all along: not a promotion.
        if (!replaced_.contains(*event->instance)) promotion_.watch(*event->instance);
      }
      break;
    case Kind::ReplicaPromoted:
      if (!view_ || !(*event->instance == view_->master))
        adopt(*event->instance, next_epoch, trigger);
      break;
    case Kind::MasterSwitched:
      if (!view_ || !(*event->instance == view_->master))
        adopt(*event->instance, next_epoch, trigger);
      break;
    case Kind::FailoverAborted:
      if (about_ours && fenced_) {
        fenced_ = false;
        promotion_.forget();
        healthLog()->warn("failover aborted group={} master={} trigger=\"{}\"",
                          config_.sentinel.master_name, view_->master.toString(), trigger);
        confirm(trigger);
      }
      break;
    case Kind::MasterDown:
    case Kind::FailoverEnded:
    case Kind::ConvertedToReplica:
    case Kind::ReplicaAdded:
      poll(trigger.c_str());
      break;
    case Kind::ReplicaDown:
    case Kind::ReplicaUp:
      // Only a flag: the next poll's SENTINEL REPLICAS confirms it.
      if (about_ours) replicas_->setFlaggedDown(*event->instance, event->kind == Kind::ReplicaDown);
      break;
    case Kind::NewEpoch:
      break;
  }
}

void SentinelMonitor::fence(const std::string& why) {
  if (fenced_) return;
  fenced_ = true;
  replaced_.add(view_->master, WriteLease::Clock::now());
  ++failovers_;
  healthLog()->warn("failover started, holding writes group={} master={} trigger=\"{}\"",
                    config_.sentinel.master_name, view_->master.toString(), why);
  setStatus(MasterStatus::FailingOver, why);
  schedulePoll(kUrgentPollInterval);
}

void SentinelMonitor::adopt(const config::Address& master, std::uint64_t epoch,
                            const std::string& trigger) {
  const bool changed = !view_ || !(view_->master == master);
  // The probe, an event or one sentinel's answer never names a replaced
  // master back: only a poll that clears it does (finishPoll).
  if (changed && replaced_.contains(master)) {
    healthLog()->warn(
        "not following the master back without a sentinel majority group={} "
        "master={} epoch={} trigger=\"{}\"",
        config_.sentinel.master_name, master.toString(), epoch, trigger);
    schedulePoll(kUrgentPollInterval);
    return;
  }
  const std::uint64_t previous_epoch = view_ ? view_->epoch : 0;
  if (changed && view_) replaced_.add(view_->master, WriteLease::Clock::now());
  view_ = View{master, std::max(epoch, previous_epoch)};
  if (changed) {
    fenced_ = false;
    master_busy_ = false;
    promotion_.forget();
    // The master it replaces gets no write while the new one's ROLE is
    // on its way (up to command_timeout, 1 s, if it does not answer).
    if (status_ == MasterStatus::Confirmed) setStatus(MasterStatus::FailingOver, trigger);
  }
  confirm(trigger);
}

/* Sentinel's view names the master; the node must agree before it gets a
 * single write. A paused or restarted old master that still says
 * role:master is not in Sentinel's view and is never asked. */
void SentinelMonitor::confirm(const std::string& trigger) {
  if (!view_) return;
  const config::Address candidate = view_->master;
  // E.g. after one sentinel's -failover-abort-*: another may still be
  // failing it over. The next poll decides (finishPoll).
  if (replaced_.contains(candidate)) {
    schedulePoll(kUrgentPollInterval);
    return;
  }
  const std::uint64_t asked_at = status_generation_;
  const auto role_asked_at = std::chrono::steady_clock::now();
  nodeLink(candidate).command(
      {"ROLE"}, [this, candidate, trigger, asked_at, role_asked_at](const redisReply* reply) {
        if (stopped_ || !view_ || !(view_->master == candidate) || fenced_ ||
            replaced_.contains(candidate)) {
          return;
        }
        // A fence or a lost sentinel majority since the question outranks the answer.
        if (status_generation_ != asked_at) return;
        const std::string role = roleOf(reply);
        // A node running a busy script answers -BUSY to everything,
        // REPLICAOF included: the master we confirmed is still the master
        // (no -MASTERDOWN, SCRIPT KILL reaches it), but writes wait until
        // it answers again (Topology::master_busy).
        const bool busy_master = role.starts_with("error \"BUSY") && confirmed_master_ &&
                                 *confirmed_master_ == candidate;
        if (role == "master" || busy_master) {
          if (busy_master != master_busy_) {
            master_busy_ = busy_master;
            healthLog()->warn("master {} group={} master={}",
                              busy_master ? "busy running a script, holding writes"
                                          : "no longer busy, writes resume",
                              config_.sentinel.master_name, candidate.toString());
            publish_after_poll_ = true;  // setConfirmed publishes it
          }
          setConfirmed(trigger, role_asked_at);
          return;
        }
        setStatus(MasterStatus::Unconfirmed,
                  "sentinels name " + candidate.toString() + " but it is " + role);
        schedulePoll(kUrgentPollInterval);
      });
}

RedisLink& SentinelMonitor::nodeLink(const config::Address& address) {
  for (const auto& link : nodes_) {
    if (link->address() == address) return *link;
  }
  nodes_.push_back(std::make_unique<RedisLink>(loop_, address, node_options_));
  return *nodes_.back();
}

void SentinelMonitor::setConfirmed(const std::string& trigger,
                                   std::chrono::steady_clock::time_point role_asked_at) {
  const config::Address& master = view_->master;
  const bool changed = !confirmed_master_ || !(*confirmed_master_ == master);
  const bool status_changed = status_ != MasterStatus::Confirmed;
  if (changed && confirmed_master_) ++master_changes_;
  if (changed) {
    healthLog()->warn("master changed group={} old={} new={} epoch={} trigger=\"{}\"",
                      config_.sentinel.master_name, describe(confirmed_master_), master.toString(),
                      view_->epoch, trigger);
  } else if (status_changed) {
    healthLog()->warn("master confirmed again group={} master={} after={} trigger=\"{}\"",
                      config_.sentinel.master_name, master.toString(), toString(status_), trigger);
  }
  confirmed_master_ = master;
  role_asked_at_ = role_asked_at;
  replicas_->setMaster(master);
  if (changed) {
    commands_.learn(nodeLink(master), master, [this] {
      if (!stopped_) publish();
    });
  }
  if (status_changed) ++status_generation_;
  status_ = MasterStatus::Confirmed;
  if (changed || status_changed || publish_after_poll_) publish();
}

void SentinelMonitor::setStatus(MasterStatus status, const std::string& reason) {
  const bool changed = status != status_;
  if (changed) ++status_generation_;
  if (changed && status != MasterStatus::FailingOver) {
    healthLog()->warn("writes held group={} status={} last_master={} reason=\"{}\"",
                      config_.sentinel.master_name, toString(status), describe(confirmed_master_),
                      reason);
  }
  status_ = status;
  if (changed || publish_after_poll_) publish();
}

void SentinelMonitor::publish() {
  publish_after_poll_ = false;
  Topology next;
  next.status = status_;
  if (status_ == MasterStatus::Confirmed) {
    next.master = confirmed_master_;
    next.master_role_asked_at = role_asked_at_;
  }
  next.master_busy = status_ == MasterStatus::Confirmed && master_busy_;
  next.replicas = replicas_->states();
  next.learned_commands = commands_.learned();
  channel_.publish(std::move(next));
}

}  // namespace rhp::health
