#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/address.h"
#include "router/route_policy.h"

namespace rhp::proxy {

/* Written by one worker thread, read by the admin endpoint when Prometheus
 * scrapes. A relaxed load and store instead of fetch_add: a single writer
 * needs no locked instruction, so counting costs a plain add on the hot
 * path and the workers never contend on a cache line. */
class Counter {
 public:
  void add(std::uint64_t n = 1) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

/* A single-writer level (connections open, requests held). */
class Gauge {
 public:
  void set(std::int64_t value) { value_.store(value, std::memory_order_relaxed); }
  void add(std::int64_t delta) { set(value() + delta); }
  std::int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};

/* Request latency in fixed buckets, as a Prometheus histogram wants them.
 * Buckets are stored per bucket (not cumulative) so an observation touches
 * one counter; the scrape adds them up. */
class LatencyHistogram {
 public:
  static constexpr std::array<std::uint64_t, 16> kUpperBoundsMicros = {
      50,     100,    250,     500,     1'000,   2'500,     5'000,     10'000,
      25'000, 50'000, 100'000, 250'000, 500'000, 1'000'000, 2'500'000, 10'000'000};
  static constexpr std::size_t kBuckets = kUpperBoundsMicros.size() + 1;  // the last is +Inf

  void observe(std::uint64_t micros);
  std::uint64_t bucket(std::size_t index) const { return buckets_[index].value(); }
  std::uint64_t sumMicros() const { return sum_micros_.value(); }

 private:
  std::array<Counter, kBuckets> buckets_;
  Counter sum_micros_;
};

/* The command classes of router::TargetKind, as metric label values. */
inline constexpr std::size_t kCommandClasses = 9;
std::size_t commandClassIndex(router::TargetKind target);
std::string_view commandClassName(std::size_t index);

/* Why a client got an error reply. Proxy-made errors are told apart by
 * their text (errors.h); anything else came from Redis. */
enum class ErrorKind : std::uint8_t {
  Protocol,        // malformed request
  OutcomeUnknown,  // a write in flight when the master died or failed over
  Timeout,         // backend.request_timeout_ms
  HeldTooLong,     // no writable master within failover.hold_ms, or the hold buffer is full
  Refused,         // a command disabled or not proxyable
  NoReplica,       // read_policy "replica" and none eligible
  Aborted,         // a transaction or SCAN iteration cut by a failover
  Auth,            // NOAUTH, WRONGPASS
  Redis,           // the server's own error (WRONGTYPE, ERR unknown command, ...)
};
inline constexpr std::size_t kErrorKinds = 9;
std::string_view errorKindName(std::size_t index);
ErrorKind classifyError(std::string_view reply);

enum class NodeRole : std::uint8_t { Master, Replica };

/* One backend node as one worker used it. Slots are claimed once and never
 * reused, so the scrape can read them while the worker runs. */
struct NodeMetrics {
  std::atomic<bool> in_use{false};  // set after address and role are written
  config::Address address;
  NodeRole role = NodeRole::Master;
  Counter requests;
  Counter connects;      // successful connection setups, the first one included
  Counter reads_resent;  // written reads sent again because the connection broke
  Gauge connections;
};

/* Everything one worker counts. */
struct WorkerMetrics {
  Counter clients_accepted;
  Counter clients_rejected;
  Counter clients_timed_out;            // proxy.timeout or proxy.auth_timeout_ms
  Counter clients_paused;               // reading stopped at proxy.client_output_backlog
  Counter clients_output_limit_closed;  // proxy.client_output_buffer_limit_pubsub
  Counter clients_evicted;              // proxy.maxmemory_clients
  Gauge client_memory_bytes;            // ClientSession::memoryUsage of this worker's clients
  std::array<Counter, kCommandClasses> commands;
  std::array<Counter, kErrorKinds> errors;
  Counter bytes_received;
  Counter bytes_sent;
  Gauge held_requests;
  LatencyHistogram latency;        // request received -> reply written, as the client sees it
  LatencyHistogram proxy_latency;  // the part of it not spent waiting for a backend

  static constexpr std::size_t kMaxNodes = 64;
  std::array<NodeMetrics, kMaxNodes> nodes;
  /* The slot for a node in a role, claimed on first use; nullptr when all
   * are taken (a topology that churned through more nodes than that). */
  NodeMetrics* node(const config::Address& address, NodeRole role);
};

}  // namespace rhp::proxy
