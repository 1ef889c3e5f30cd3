#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tests/support/child_process.h"

namespace rhp::test {

/* The built redis-ha-proxy binary, listening on a free loopback port. */
class ProxyProcess {
 public:
  /* `args` are passed as they are, after --listen and --log-level.
   * `launcher` runs the proxy ({"prlimit", "--nofile=64"}); it must exec it,
   * so the process is the proxy's. */
  ProxyProcess(const std::string& work_dir, const std::vector<std::string>& args,
               const std::vector<std::string>& launcher = {});
  ~ProxyProcess();

  std::uint16_t port() const { return port_; }
  /* The admin HTTP endpoint (/metrics, /healthz, /readyz). */
  std::uint16_t adminPort() const { return admin_port_; }
  std::string log() const;
  /* Waits until a write through the proxy succeeds (a master is confirmed),
   * logging in with `password` (proxy.password) when given. It sets
   * rhp:probe to 1. */
  bool waitUntilWritable(const std::string& password = "") const;
  /* How many times `text` occurs in the log so far. */
  std::size_t countInLog(const std::string& text) const;
  /* Waits until the log says `count` replicas are eligible for reads. */
  bool waitForEligibleReplicas(std::size_t count) const;
  /* SIGTERM; returns the wait status (-1 if it had to be killed). The
   * proxy drains first: up to proxy.drain_timeout_ms (5 s by default). */
  int terminate();
  void signal(int signo) const { process_.signal(signo); }
  /* Waits for the proxy to exit; the wait status, or -1 if it still runs. */
  int waitForExit(int timeout_ms) { return process_.wait(timeout_ms); }
  bool running() const { return process_.running(); }
  /* Resident memory now (VmRSS), in bytes; 0 if it cannot be read. */
  std::size_t residentBytes() const;

  static std::string binary();

 private:
  std::uint16_t port_;
  std::uint16_t admin_port_;
  std::string log_path_;
  ChildProcess process_;
};

}  // namespace rhp::test
