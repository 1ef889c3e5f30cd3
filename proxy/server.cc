#include "proxy/server.h"

#include <spdlog/spdlog.h>
#include <uv.h>

#include <chrono>
#include <csignal>
#include <memory>
#include <thread>
#include <vector>

#include "health/sentinel_monitor.h"
#include "health/topology_channel.h"
#include "net/uv_handle.h"
#include "proxy/admin_server.h"
#include "proxy/listen_socket.h"
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

/* What the admin endpoint answers; runs on the control thread. */
AdminServer::Response adminResponse(const std::string& path, const MetricsInputs& base,
                                    const health::TopologyChannel& channel,
                                    const health::SentinelMonitor& monitor,
                                    const ClientCounter& clients) {
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

int runServer(const config::Config& config) {
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
  clients.max = config.proxy.max_clients;

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
  AdminServer admin(&control.loop, [&](const std::string& path) {
    return adminResponse(path, metrics_base, channel, monitor, clients);
  });
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

  net::UvHandle<uv_signal_t> sigint;
  net::UvHandle<uv_signal_t> sigterm;
  auto stopAll = [&] {
    log->info("shutting down");
    monitor.stop();
    admin.stop();
    for (auto& worker : workers) worker->stop();
    sigint.reset();
    sigterm.reset();
  };
  auto onSignal = [](uv_signal_t* handle, int) {
    if (handle->data != nullptr) (*static_cast<decltype(stopAll)*>(handle->data))();
  };
  uv_signal_init(&control.loop, sigint.allocate());
  uv_signal_init(&control.loop, sigterm.allocate());
  sigint->data = &stopAll;
  sigterm->data = &stopAll;
  uv_signal_start(sigint.get(), onSignal, SIGINT);
  uv_signal_start(sigterm.get(), onSignal, SIGTERM);

  log->info("redis-ha-proxy {} listening address={}:{} workers={} master_name={} sentinels={}",
            kVersion, config.proxy.listen.host, port, worker_count, config.sentinel.master_name,
            config.sentinel.addresses.size());
  monitor.start();
  uv_run(&control.loop, UV_RUN_DEFAULT);
  for (auto& thread : threads) thread.join();
  return 0;
}

}  // namespace rhp::proxy
