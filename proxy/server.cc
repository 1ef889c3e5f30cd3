#include "proxy/server.h"

#include <spdlog/spdlog.h>
#include <uv.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "config/config_loader.h"
#include "config/config_reload.h"
#include "health/sentinel_monitor.h"
#include "health/topology_channel.h"
#include "net/uv_handle.h"
#include "proxy/admin_server.h"
#include "proxy/fd_watch.h"
#include "proxy/listen_socket.h"
#include "proxy/logging.h"
#include "proxy/metrics_text.h"
#include "proxy/proxy_log.h"
#include "proxy/version.h"
#include "proxy/worker.h"

namespace rhp::proxy {

namespace {

struct ControlLoop {
  uv_loop_t loop{};
  ControlLoop() {
    if (uv_loop_init(&loop) != 0) throw std::runtime_error("uv_loop_init failed");
  }
  ~ControlLoop() {
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
  }
};

/* SIGHUP: reads the config file again and puts in force what can change
 * without dropping a client: the log level, limits, timeouts, credentials,
 * hold bounds, routing, the sentinel list and the lease. The workers get a
 * copy through the channel and apply it before their next request; the
 * control thread reconfigures its monitor. What needs a restart (listen
 * addresses, workers, connections per node, master name, log format) is
 * named in the log and kept. A file that does not load is reported with
 * its file:line:col and the running config stays. */
void reloadConfig(config::Config& running, const ConfigReloader& reload,
                  health::TopologyChannel& channel, health::SentinelMonitor& monitor,
                  ClientCounter& clients) {
  auto log = spdlog::get("config");
  if (!reload) return;
  config::Config next;
  try {
    next = reload();
  } catch (const config::ConfigError& error) {
    for (const auto& problem : error.problems()) {
      log->error("reload rejected, keeping the running config: {}", problem);
    }
    return;
  } catch (const std::exception& error) {
    log->error("reload failed, keeping the running config: {}", error.what());
    return;
  }
  auto plan = config::planReload(running, next);
  for (const auto& change : plan.changes) log->warn("reload: {}", change);
  if (!plan.kept_until_restart.empty()) {
    std::string keys;
    for (const auto& key : plan.kept_until_restart) keys += (keys.empty() ? "" : ", ") + key;
    log->warn("reload: changed but kept until a restart: {}", keys);
  }
  // Unchanged settings may still name rotated certificate files: with TLS
  // on, every SIGHUP passes the settings on so that the files are read again.
  const bool tls = running.backend.tls.enabled || running.sentinel.tls.enabled ||
                   running.proxy.tls_listen.has_value();
  if (plan.changes.empty()) {
    if (plan.kept_until_restart.empty()) {
      log->info(tls ? "reload: configuration unchanged; TLS certificate files read again"
                    : "reload: configuration unchanged");
    }
    if (!tls) return;
  }
  running = std::move(plan.applied);
  setLogLevel(running.log.level);
  clients.max.store(running.proxy.max_clients, std::memory_order_relaxed);
  monitor.reconfigure(running);
  channel.publishConfig(running);
}

/* What the admin endpoint answers; runs on the control thread. */
AdminServer::Response adminResponse(const std::string& path, const MetricsInputs& base,
                                    const health::TopologyChannel& channel,
                                    const health::SentinelMonitor& monitor,
                                    const ClientCounter& clients, bool draining) {
  const auto topology = channel.current();
  if (path == "/metrics") {
    MetricsInputs inputs = base;
    inputs.clients_open = clients.open.load();
    inputs.topology = topology.get();
    inputs.control = monitor.stats();
    return {200, "text/plain; version=0.0.4; charset=utf-8", renderMetrics(inputs)};
  }
  if (path == "/healthz") return {200, "text/plain; charset=utf-8", "ok\n"};
  if (path == "/readyz") {
    // A load balancer should send new clients elsewhere while this one drains.
    if (draining) return {503, "text/plain; charset=utf-8", "not ready: draining\n"};
    if (topology->master) {
      return {200, "text/plain; charset=utf-8",
              "ready: writes go to " + topology->master->toString() + "\n"};
    }
    return {503, "text/plain; charset=utf-8",
            std::string("not ready: no confirmed master (") + health::toString(topology->status) +
                ")\n"};
  }
  return {404, "text/plain; charset=utf-8",
          "not found; the admin endpoint serves /metrics, /healthz and /readyz\n"};
}

/* The running process: the control loop (Sentinel, the admin endpoint,
 * signals) on this thread and one worker per thread. Members are declared
 * in the order they must be built; they are destroyed in reverse, the
 * control loop last, so each libuv handle closes on a live loop. */
class Process {
 public:
  Process(const config::Config& config, const ConfigReloader& reload)
      : config_(config), reload_(reload), reloaded_(config) {}

  int run() {
    // Writes to a client that vanished must fail with EPIPE, not kill us.
    std::signal(SIGPIPE, SIG_IGN);
    const unsigned workers = config_.effectiveWorkers();
    std::vector<int> fds(workers, -1);
    std::vector<int> tls_fds(workers, -1);
    try {
      if (config_.proxy.listen) fds = openListenSockets(*config_.proxy.listen, workers, port_);
      if (config_.proxy.tls_listen) {
        tls_fds = openListenSockets(*config_.proxy.tls_listen, workers, tls_port_);
      }
    } catch (const std::exception& error) {
      log_->critical("{}", error.what());
      return 1;
    }
    startWorkers(fds, tls_fds);
    if (!startAdmin()) {
      monitor_->stop();
      for (auto& worker : workers_) worker->stop();
      return 1;
    }
    for (auto& worker : workers_) threads_.emplace_back([&worker] { worker->run(); });
    fd_watch_ = std::make_unique<FdWatch>(&control_.loop);
    watchSignals();
    log_->info(
        "redis-ha-proxy {} listening address={} tls_address={} workers={} master_name={} "
        "sentinels={}",
        kVersion, boundAddress(config_.proxy.listen, port_),
        boundAddress(config_.proxy.tls_listen, tls_port_), workers_.size(),
        config_.sentinel.master_name, config_.sentinel.addresses.size());
    monitor_->start();
    uv_run(&control_.loop, UV_RUN_DEFAULT);
    for (auto& thread : threads_) thread.join();
    return 0;
  }

 private:
  /* "host:port" with the port bound (port 0 asks for any); "off". */
  static std::string boundAddress(const std::optional<config::Address>& address,
                                  std::uint16_t port) {
    return address ? address->host + ":" + std::to_string(port) : "off";
  }

  void startWorkers(const std::vector<int>& fds, const std::vector<int>& tls_fds) {
    clients_.max.store(config_.proxy.max_clients);
    for (unsigned i = 0; i < fds.size(); ++i) {
      workers_.push_back(
          std::make_unique<Worker>(i, config_, channel_, ListenFds{fds[i], tls_fds[i]}, clients_));
    }
    std::vector<const WorkerMetrics*> all_metrics;
    for (const auto& worker : workers_) all_metrics.push_back(&worker->metrics());
    const auto started = std::chrono::steady_clock::now();
    for (auto& worker : workers_) {
      Worker* raw = worker.get();
      raw->setPeers(all_metrics, started);
      channel_.addSubscriber([raw] { raw->wake(); });
    }
    monitor_ = std::make_unique<health::SentinelMonitor>(&control_.loop, config_, channel_);
    channel_.setRediscoveryHandler([this] { monitor_->requestRediscovery(); });
    metrics_base_.workers = all_metrics;
    metrics_base_.version = kVersion;
    metrics_base_.start_time_seconds =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  }

  bool startAdmin() {
    admin_ = std::make_unique<AdminServer>(
        &control_.loop,
        [this](const std::string& path) {
          return adminResponse(path, metrics_base_, channel_, *monitor_, clients_, draining_);
        },
        config_.admin);
    if (!config_.admin.enabled) return true;
    try {
      admin_->listen(config_.admin.listen);
    } catch (const std::exception& error) {
      log_->critical("{} (set admin.listen or --admin-listen, or admin.enabled = false)",
                     error.what());
      return false;
    }
    log_->info("admin endpoint listening address={}:{} paths=/metrics,/healthz,/readyz",
               config_.admin.listen.host, admin_->port());
    return true;
  }

  /* SIGTERM/SIGINT drain (a second one stops at once), SIGHUP reloads. */
  void watchSignals() {
    for (auto [handle, signo] : {std::pair{&sigint_, SIGINT}, std::pair{&sigterm_, SIGTERM},
                                 std::pair{&sighup_, SIGHUP}}) {
      uv_signal_init(&control_.loop, handle->allocate());
      (*handle)->data = this;
      uv_signal_start(
          handle->get(),
          [](uv_signal_t* signal, int number) {
            if (signal->data != nullptr) static_cast<Process*>(signal->data)->onSignal(number);
          },
          signo);
    }
  }

  void onSignal(int signo) {
    if (signo == SIGHUP) {
      reloadConfig(reloaded_, reload_, channel_, *monitor_, clients_);
      return;
    }
    const auto drain_timeout = reloaded_.proxy.drain_timeout;
    if (draining_ || drain_timeout.count() == 0) {
      log_->info("shutting down now");
      finish();
      return;
    }
    draining_ = true;
    log_->info(
        "draining: no new clients, requests in flight get up to {} ms (signal again to stop "
        "at once)",
        drain_timeout.count());
    for (auto& worker : workers_) worker->drain(drain_timeout);
    // The control thread keeps following Sentinel meanwhile: held writes
    // still need their master. It stops once every worker is done, or a
    // second after the workers' own deadline; checked every 50 ms.
    drain_deadline_ = std::chrono::steady_clock::now() + drain_timeout + std::chrono::seconds(1);
    uv_timer_init(&control_.loop, drain_watch_.allocate());
    drain_watch_->data = this;
    uv_timer_start(
        drain_watch_.get(),
        [](uv_timer_t* timer) {
          if (timer->data != nullptr) static_cast<Process*>(timer->data)->watchDrain();
        },
        50, 50);
  }

  void watchDrain() {
    const bool all_done = std::all_of(workers_.begin(), workers_.end(),
                                      [](const auto& worker) { return worker->finished(); });
    if (all_done) {
      log_->info("drained, exiting");
    } else if (std::chrono::steady_clock::now() < drain_deadline_) {
      return;
    }
    finish();
  }

  void finish() {
    monitor_->stop();
    admin_->stop();
    fd_watch_->stop();
    for (auto& worker : workers_) worker->stop();
    sigint_.reset();
    sigterm_.reset();
    sighup_.reset();
    drain_watch_.reset();
  }

  const config::Config& config_;
  const ConfigReloader& reload_;
  std::shared_ptr<spdlog::logger> log_ = proxyLog();
  std::uint16_t port_ = 0;
  std::uint16_t tls_port_ = 0;
  ControlLoop control_;
  health::TopologyChannel channel_;
  ClientCounter clients_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<health::SentinelMonitor> monitor_;
  MetricsInputs metrics_base_;
  bool draining_ = false;  // SIGTERM received
  std::unique_ptr<AdminServer> admin_;
  std::vector<std::thread> threads_;
  std::unique_ptr<FdWatch> fd_watch_;
  // What is in force after reloads, for the next one to diff against; the
  // workers keep their own view of it.
  config::Config reloaded_;
  net::UvHandle<uv_signal_t> sigint_;
  net::UvHandle<uv_signal_t> sigterm_;
  net::UvHandle<uv_signal_t> sighup_;
  net::UvHandle<uv_timer_t> drain_watch_;
  std::chrono::steady_clock::time_point drain_deadline_;
};

}  // namespace

int runServer(const config::Config& config, const ConfigReloader& reload) {
  return Process(config, reload).run();
}

}  // namespace rhp::proxy
