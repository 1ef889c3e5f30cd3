#include "health/sentinel_monitor.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace rhp::health {

namespace {

/* While no master is confirmed we poll faster than the configured interval:
 * clients are being held and every 100 ms of delay is visible to them. */
constexpr std::chrono::milliseconds kUnconfirmedPollInterval{100};

std::shared_ptr<spdlog::logger> logger() {
  return spdlog::get("health");
}

std::string_view view(const redisReply* reply) {
  return {reply->str, reply->len};
}

bool isString(const redisReply* reply) {
  return reply != nullptr &&
         (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS);
}

std::string describe(const std::optional<config::Address>& address) {
  return address ? address->toString() : "none";
}

}  // namespace

SentinelMonitor::SentinelMonitor(uv_loop_t* loop, const config::Config& config,
                                 TopologyChannel& channel)
    : loop_(loop), config_(config), channel_(channel) {
  sentinel_options_ = {config.sentinel.connect_timeout, config.sentinel.command_timeout,
                       config.sentinel.username, config.sentinel.password};
  node_options_ = {config.backend.connect_timeout, config.sentinel.command_timeout,
                   config.backend.username, config.backend.password};
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
}

SentinelMonitor::~SentinelMonitor() {
  stop();
}

void SentinelMonitor::start() {
  poll("startup");
}

void SentinelMonitor::stop() {
  if (stopped_) return;
  stopped_ = true;
  poll_timer_.reset();
  wakeup_.reset();
  sentinels_.clear();
  nodes_.clear();
}

void SentinelMonitor::requestRediscovery() {
  rediscovery_requested_.store(true);
  // uv_async_send is the one libuv call that is safe from other threads.
  if (wakeup_) uv_async_send(wakeup_.get());
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
  if (std::string_view(trigger) == "worker report") publish_after_cycle_ = true;
  if (cycle_running_) return;  // the running cycle will see the same state
  cycle_running_ = true;
  any_sentinel_knew_name_ = false;
  SPDLOG_LOGGER_TRACE(logger(), "poll cycle={} trigger={}", cycle_ + 1, trigger);
  askSentinel(0, ++cycle_);
}

void SentinelMonitor::askSentinel(std::size_t index, std::uint64_t cycle) {
  if (stopped_ || cycle != cycle_) return;
  if (index >= sentinels_.size()) {
    finishCycleWithoutMaster();
    return;
  }
  Sentinel& sentinel = *sentinels_[index];
  if (!sentinel.commands) {
    sentinel.commands = std::make_unique<RedisLink>(loop_, sentinel.address, sentinel_options_);
  }
  if (!sentinel.events) subscribe(sentinel);
  sentinel.commands->command(
      {"SENTINEL", "get-master-addr-by-name", config_.sentinel.master_name},
      [this, index, cycle](const redisReply* reply) {
        if (stopped_ || cycle != cycle_) return;
        const bool answered = reply != nullptr && reply->type == REDIS_REPLY_ARRAY &&
                              reply->elements == 2 && isString(reply->element[0]) &&
                              isString(reply->element[1]);
        if (!answered) {
          askSentinel(index + 1, cycle);
          return;
        }
        any_sentinel_knew_name_ = true;
        auto named = config::makeAddress(view(reply->element[0]), view(reply->element[1]));
        if (!named) {
          askSentinel(index + 1, cycle);
          return;
        }
        // The guidelines: the sentinel that answered goes to the front, so
        // the next poll asks a working one first.
        if (index != 0)
          std::rotate(sentinels_.begin(), sentinels_.begin() + index,
                      sentinels_.begin() + index + 1);
        refreshSentinels(*sentinels_.front());
        if (!named_master_ || !(*named_master_ == *named)) {
          logger()->info("sentinel names master group={} master={} sentinel={}",
                         config_.sentinel.master_name, named->toString(),
                         sentinels_.front()->address.toString());
        }
        named_master_ = named;
        cycle_running_ = false;
        confirm(*named, "poll of sentinel " + sentinels_.front()->address.toString());
        schedulePoll(status_ == MasterStatus::Confirmed ? config_.sentinel.poll_interval
                                                        : kUnconfirmedPollInterval);
      });
}

void SentinelMonitor::finishCycleWithoutMaster() {
  cycle_running_ = false;
  if (!any_sentinel_knew_name_) {
    bool any_reachable = false;
    for (const auto& sentinel : sentinels_) {
      if (sentinel->commands && sentinel->commands->connected()) any_reachable = true;
    }
    if (any_reachable) {
      setStatus(MasterStatus::UnknownName,
                "no sentinel monitors master name '" + config_.sentinel.master_name + "'");
    } else {
      setStatus(MasterStatus::NoSentinel, "no sentinel reachable");
    }
  }
  if (publish_after_cycle_) publish();
  // Backs off to the poll interval: sentinels that refuse connections are
  // retried once per interval, not in a tight loop.
  schedulePoll(config_.sentinel.poll_interval);
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

void SentinelMonitor::addSentinel(const config::Address& address) {
  for (const auto& known : sentinels_) {
    if (known->address == address) return;
  }
  if (!sentinels_.empty()) {
    logger()->info("discovered sentinel address={} known={}", address.toString(),
                   sentinels_.size() + 1);
  }
  auto sentinel = std::make_unique<Sentinel>();
  sentinel->address = address;
  sentinels_.push_back(std::move(sentinel));
  if (cycle_ > 0) subscribe(*sentinels_.back());
}

void SentinelMonitor::subscribe(Sentinel& sentinel) {
  sentinel.events = std::make_unique<RedisLink>(loop_, sentinel.address, sentinel_options_);
  const config::Address from = sentinel.address;
  sentinel.events->subscribe(
      {"+switch-master"},
      [this, from](std::string_view channel, std::string_view payload) {
        onEvent(from, channel, payload);
      },
      [this, from](bool connected) {
        SPDLOG_LOGGER_TRACE(logger(), "subscription sentinel={} connected={}", from.toString(),
                            connected);
        // Events may have been missed while the subscription was down.
        if (connected) poll("resubscribed");
      });
}

void SentinelMonitor::onEvent(const config::Address& from, std::string_view channel,
                              std::string_view payload) {
  if (channel != "+switch-master") return;
  // "<master name> <old ip> <old port> <new ip> <new port>"
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  while (start <= payload.size()) {
    const std::size_t space = payload.find(' ', start);
    fields.push_back(payload.substr(start, space - start));
    if (space == std::string_view::npos) break;
    start = space + 1;
  }
  if (fields.size() != 5 || fields[0] != config_.sentinel.master_name) return;
  auto promoted = config::makeAddress(fields[3], fields[4]);
  if (!promoted) return;
  // Every sentinel publishes the same switch; act on the first only.
  if (named_master_ && *named_master_ == *promoted) return;
  named_master_ = promoted;
  confirm(*promoted, "+switch-master from sentinel " + from.toString());
}

RedisLink& SentinelMonitor::nodeLink(const config::Address& address) {
  for (const auto& link : nodes_) {
    if (link->address() == address) return *link;
  }
  nodes_.push_back(std::make_unique<RedisLink>(loop_, address, node_options_));
  return *nodes_.back();
}

void SentinelMonitor::confirm(const config::Address& candidate, std::string trigger) {
  nodeLink(candidate).command({"ROLE"}, [this, candidate, trigger](const redisReply* reply) {
    if (stopped_) return;
    // Only the node the sentinels name now may become the write target: a
    // stale ROLE answer from an earlier candidate must not win a race.
    if (!named_master_ || !(*named_master_ == candidate)) return;
    const bool is_master = reply != nullptr && reply->type == REDIS_REPLY_ARRAY &&
                           reply->elements >= 1 && isString(reply->element[0]) &&
                           view(reply->element[0]) == "master";
    if (is_master) {
      setConfirmed(candidate, trigger);
      return;
    }
    std::string role = "unreachable";
    if (reply != nullptr && reply->type == REDIS_REPLY_ARRAY && reply->elements >= 1 &&
        isString(reply->element[0])) {
      role = "role:" + std::string(view(reply->element[0]));
    } else if (reply != nullptr && reply->type == REDIS_REPLY_ERROR) {
      role = "error \"" + std::string(view(reply)) + "\"";
    }
    setStatus(MasterStatus::Unconfirmed,
              "named master " + candidate.toString() + " is " + role + " (" + trigger + ")");
    schedulePoll(kUnconfirmedPollInterval);
  });
}

void SentinelMonitor::setConfirmed(const config::Address& master, const std::string& trigger) {
  const bool changed = !confirmed_master_ || !(*confirmed_master_ == master);
  if (changed || status_ != MasterStatus::Confirmed) {
    logger()->warn("master changed group={} old={} new={} trigger=\"{}\"",
                   config_.sentinel.master_name, describe(confirmed_master_), master.toString(),
                   trigger);
  }
  confirmed_master_ = master;
  const bool status_changed = status_ != MasterStatus::Confirmed;
  status_ = MasterStatus::Confirmed;
  status_reason_.clear();
  if (changed || status_changed || publish_after_cycle_) publish();
}

void SentinelMonitor::setStatus(MasterStatus status, const std::string& reason) {
  if (status == status_ && reason == status_reason_) return;
  if (status != status_) {
    logger()->warn("master not confirmed group={} status={} last={} reason=\"{}\"",
                   config_.sentinel.master_name, toString(status), describe(confirmed_master_),
                   reason);
  }
  const bool changed = status != status_;
  status_ = status;
  status_reason_ = reason;
  if (changed || publish_after_cycle_) publish();
}

void SentinelMonitor::publish() {
  publish_after_cycle_ = false;
  Topology next;
  next.status = status_;
  if (status_ == MasterStatus::Confirmed) next.master = confirmed_master_;
  channel_.publish(std::move(next));
}

}  // namespace rhp::health
