#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/child_process.h"
#include "tests/support/resp_client.h"

namespace rhp::test {

/* The 3-host N+1 deployment on loopback (node 0 starts as master, the
 * others replicate it), as scripts/lab.py writes, starts, waits for and
 * stops it, on free ports in a temporary directory. The lab program
 * runs as a child of the test binary ("lab.py serve") that owns the redis
 * processes; this class asks it over a socket. When the Lab goes away, or
 * the test binary dies, the program stops every process and removes the
 * directory. */
class Lab {
 public:
  struct Options {
    std::size_t nodes = 3;
    std::size_t sentinels = 3;
    /* 0 or empty: the lab's default (docker/lab.env); options() has the
     * value in force once the lab is up. */
    int down_after_ms = 0;
    int failover_timeout_ms = 0;
    std::string master_name;
    std::vector<std::string> extra_redis_config;  // lines appended to each redis.conf
    std::vector<std::uint16_t> sentinel_ports;    // empty: free ports
    std::string redis_password;                   // requirepass + masterauth on every node
    std::string sentinel_password;                // the sentinels' own requirepass
    /* TLS only on every link, client certificates required (scripts/lab.py's
     * --tls); the lab's own connections then speak TLS too. */
    bool tls = false;
  };

  /* One redis node watched by one sentinel: for tests of what the proxy
   * does itself, where no failover is needed. */
  static Options singleNode() {
    Options options;
    options.nodes = 1;
    options.sentinels = 1;
    return options;
  }

  Lab();
  explicit Lab(Options options);
  ~Lab();
  Lab(const Lab&) = delete;
  Lab& operator=(const Lab&) = delete;

  const Options& options() const { return options_; }
  const std::string& dir() const { return dir_; }
  std::uint16_t nodePort(std::size_t node) const { return node_ports_[node]; }
  std::uint16_t sentinelPort(std::size_t sentinel) const { return sentinel_ports_[sentinel]; }
  std::size_t nodeCount() const { return node_ports_.size(); }
  /* A TLS lab's files: ca.crt, server.*, client.*, expired.*, other-ca.*
   * (scripts/test_certs.sh); "" for a plain lab. */
  const std::string& tlsDir() const { return tls_dir_; }
  /* The [backend] and [sentinel] TLS keys that make a proxy speak TLS to
   * this lab, with `extra` added to both sections ("tls_verify = ..."). */
  std::string tlsToml(const std::string& extra = "") const;
  /* "--sentinel 127.0.0.1:p" for each sentinel, and the master name. */
  std::vector<std::string> proxyArgs() const;
  /* proxyArgs() plus --config with a file holding `toml`, written in dir(). */
  std::vector<std::string> proxyArgs(const std::string& toml) const;

  /* The node a majority of the sentinels name as master, if they agree. */
  std::optional<std::size_t> sentinelMaster() const;
  /* The node's own answer to ROLE ("master", "slave"), or "down". */
  std::string role(std::size_t node) const;

  void signalNode(std::size_t node, int signo);
  void signalSentinel(std::size_t sentinel, int signo);
  /* Waits until the sentinels agree on a master other than `old_master` and
   * that node reports role:master itself; returns it, or nullopt. */
  std::optional<std::size_t> waitForNewMaster(std::size_t old_master,
                                              std::chrono::milliseconds timeout);
  void killNode(std::size_t node);
  /* Starts a killed node again with its config (sentinel rewrote it). */
  void restartNode(std::size_t node);
  /* Connections that have authenticated when the lab has passwords. */
  std::unique_ptr<RespClient> connectNode(
      std::size_t node, std::chrono::milliseconds timeout = std::chrono::milliseconds(500)) const;
  std::unique_ptr<RespClient> connectSentinel(std::size_t sentinel) const;

  /* Calls of `command` ("get", "evalsha_ro") on a node since its last
   * CONFIG RESETSTAT, from INFO commandstats. */
  long commandCalls(std::size_t node, const std::string& command) const;
  /* CONFIG RESETSTAT on every node. */
  void resetStats() const;

  /* Asks a sentinel for a planned failover. */
  std::string sentinelFailover();

  /* Polls `condition` every 20 ms until it holds or `timeout` passes. */
  static bool waitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

 private:
  /* One command line to the lab program, its one-line answer; throws on
   * "error ..." or when it has gone. An empty command only reads the next
   * line (the first one: "ready ..."). */
  std::string ask(const std::string& command) const;

  std::unique_ptr<RespClient> connect(std::uint16_t port, const std::string& password,
                                      std::chrono::milliseconds timeout) const;

  Options options_;
  std::string dir_;
  std::string tls_dir_;
  std::vector<std::uint16_t> node_ports_;
  std::vector<std::uint16_t> sentinel_ports_;
  ChildProcess program_;
  /* This end of the socketpair with the program; closing it tells the
   * program to stop the lab. */
  struct Link {
    int fd = -1;
    ~Link() {
      if (fd >= 0) close(fd);
    }
  };
  Link link_;
  mutable std::string unread_;  // what the program sent past the last answer
  mutable std::mutex mutex_;    // one question at a time
};

}  // namespace rhp::test
