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
  if (plan.changes.empty()) {
    if (plan.kept_until_restart.empty()) log->info("reload: configuration unchanged");
    return;
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

}  // namespace

int runServer(const config::Config& config, const ConfigReloader& reload) {
  auto log = spdlog::get("proxy");
  // Writes to a client that vanished must fail with EPIPE, not kill us.
  std::signal(SIGPIPE, SIG_IGN);

  const unsigned worker_count = config.effectiveWorkers();
  std::uint16_t port = 0;
  std::vector<int> fds;
  try {
    fds = openListenSockets(config.proxy.listen, worker_count, port);
  } catch (const std::exception& error) {
    log->critical("{}", error.what());
    return 1;
  }

  ControlLoop control;
  health::TopologyChannel channel;
  ClientCounter clients;
  clients.max.store(config.proxy.max_clients);

  std::vector<std::unique_ptr<Worker>> workers;
  for (unsigned i = 0; i < worker_count; ++i) {
    workers.push_back(std::make_unique<Worker>(i, config, channel, fds[i], clients));
  }
  std::vector<const WorkerMetrics*> all_metrics;
  for (const auto& worker : workers) all_metrics.push_back(&worker->metrics());
  const auto started = std::chrono::steady_clock::now();
  for (auto& worker : workers) {
    Worker* raw = worker.get();
    raw->setPeers(all_metrics, started);
    channel.addSubscriber([raw] { raw->wake(); });
  }
  health::SentinelMonitor monitor(&control.loop, config, channel);
  channel.setRediscoveryHandler([&monitor] { monitor.requestRediscovery(); });

  MetricsInputs metrics_base;
  metrics_base.workers = all_metrics;
  metrics_base.version = kVersion;
  metrics_base.start_time_seconds =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  bool draining = false;  // SIGTERM received
  AdminServer admin(
      &control.loop,
      [&](const std::string& path) {
        return adminResponse(path, metrics_base, channel, monitor, clients, draining);
      },
      config.admin);
  if (config.admin.enabled) {
    try {
      admin.listen(config.admin.listen);
    } catch (const std::exception& error) {
      log->critical("{} (set admin.listen or --admin-listen, or admin.enabled = false)",
                    error.what());
      monitor.stop();
      for (auto& worker : workers) worker->stop();
      return 1;
    }
    log->info("admin endpoint listening address={}:{} paths=/metrics,/healthz,/readyz",
              config.admin.listen.host, admin.port());
  }

  std::vector<std::thread> threads;
  for (auto& worker : workers) threads.emplace_back([&worker] { worker->run(); });
  FdWatch fd_watch(&control.loop);

  // SIGTERM/SIGINT drain (a second one stops at once), SIGHUP reloads.
  // `reloaded` is what is in force after reloads, for the next one to diff
  // against; the workers keep their own view of it.
  config::Config reloaded = config;
  net::UvHandle<uv_signal_t> sigint;
  net::UvHandle<uv_signal_t> sigterm;
  net::UvHandle<uv_signal_t> sighup;
  net::UvHandle<uv_timer_t> drain_watch;
  std::chrono::steady_clock::time_point drain_deadline;
  auto finish = [&] {
    monitor.stop();
    admin.stop();
    fd_watch.stop();
    for (auto& worker : workers) worker->stop();
    sigint.reset();
    sigterm.reset();
    sighup.reset();
    drain_watch.reset();
  };
  auto watchDrain = [&] {
    const bool all_done = std::all_of(workers.begin(), workers.end(),
                                      [](const auto& worker) { return worker->finished(); });
    if (all_done) {
      log->info("drained, exiting");
    } else if (std::chrono::steady_clock::now() < drain_deadline) {
      return;
    }
    finish();
  };
  std::function<void(int)> onSignal = [&](int signo) {
    if (signo == SIGHUP) {
      reloadConfig(reloaded, reload, channel, monitor, clients);
      return;
    }
    const auto drain_timeout = reloaded.proxy.drain_timeout;
    if (draining || drain_timeout.count() == 0) {
      log->info("shutting down now");
      finish();
      return;
    }
    draining = true;
    log->info(
        "draining: no new clients, requests in flight get up to {} ms (signal again to stop "
        "at once)",
        drain_timeout.count());
    for (auto& worker : workers) worker->drain(drain_timeout);
    // The control thread keeps following Sentinel meanwhile: held writes
    // still need their master. It stops once every worker is done, or a
    // second after the workers' own deadline.
    drain_deadline = std::chrono::steady_clock::now() + drain_timeout + std::chrono::seconds(1);
    uv_timer_init(&control.loop, drain_watch.allocate());
    drain_watch->data = &watchDrain;
    uv_timer_start(
        drain_watch.get(),
        [](uv_timer_t* timer) {
          auto* watch = static_cast<decltype(watchDrain)*>(timer->data);
          if (watch != nullptr) (*watch)();
        },
        50, 50);
  };
  auto onSignalHandle = [](uv_signal_t* handle, int signo) {
    if (handle->data != nullptr) (*static_cast<std::function<void(int)>*>(handle->data))(signo);
  };
  for (auto [handle, signo] :
       {std::pair{&sigint, SIGINT}, std::pair{&sigterm, SIGTERM}, std::pair{&sighup, SIGHUP}}) {
    uv_signal_init(&control.loop, handle->allocate());
    (*handle)->data = &onSignal;
    uv_signal_start(handle->get(), onSignalHandle, signo);
  }
  log->info("redis-ha-proxy {} listening address={}:{} workers={} master_name={} sentinels={}",
            kVersion, config.proxy.listen.host, port, worker_count, config.sentinel.master_name,
            config.sentinel.addresses.size());
  monitor.start();
  uv_run(&control.loop, UV_RUN_DEFAULT);
  for (auto& thread : threads) thread.join();
  return 0;
}

}  // namespace rhp::proxy
