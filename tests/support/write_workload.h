#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/resp_client.h"

namespace rhp::test {

/* Legacy clients writing through the proxy: each writer has one connection
 * and alternates INCR on its own counter with a SET of a new unique key,
 * recording every acknowledged write and every error, so a test can later
 * check that no acknowledged write was lost. */
class WriteWorkload {
 public:
  struct Outcome {
    long acknowledged = 0;
    std::vector<std::string> errors;
    /* Acknowledged writes missing on the node checked. */
    long lost_counter_increments = 0;
    long lost_keys = 0;
    std::vector<std::string> lost_key_samples;  // the first few, for the failure message
    /* Longest time between two acknowledged writes of one writer. */
    std::chrono::milliseconds longest_gap{0};
  };

  /* With `tls`, the writers connect with TLS (the proxy's TLS port); with
   * `auth` (AUTH's arguments), each logs in first. */
  WriteWorkload(std::uint16_t port, int writers, std::string prefix,
                const RespClient::Tls* tls = nullptr, std::vector<std::string> auth = {});
  ~WriteWorkload();

  long acknowledged() const { return acknowledged_.load(); }
  void stop();
  /* Compares what was acknowledged with what `master` holds. Call after stop(). */
  Outcome check(RespClient& master) const;

 private:
  struct Writer {
    std::unique_ptr<RespClient> client;
    std::string counter;
    long counter_acked = 0;  // the value the last acknowledged INCR returned
    /* An acknowledged INCR that returned no more than the one before means
     * the increments in between were lost (written to a stale master). */
    long counter_regressions = 0;
    std::vector<std::string> keys_acked;
    std::vector<std::string> errors;
    std::chrono::milliseconds longest_gap{0};
    std::thread thread;
  };
  void run(Writer& writer, int index);

  std::string prefix_;
  std::vector<std::unique_ptr<Writer>> writers_;
  std::atomic<bool> running_{true};
  std::atomic<long> acknowledged_{0};
};

}  // namespace rhp::test
