#include "tests/support/write_workload.h"

#include <chrono>
#include <stdexcept>
#include <thread>

namespace rhp::test {

namespace {
constexpr std::chrono::milliseconds kPause{1};
}  // namespace

WriteWorkload::WriteWorkload(std::uint16_t port, int writers, std::string prefix,
                             const RespClient::Tls* tls, std::vector<std::string> auth)
    : prefix_(std::move(prefix)) {
  if (!auth.empty()) auth.insert(auth.begin(), "AUTH");
  for (int i = 0; i < writers; ++i) {
    auto writer = std::make_unique<Writer>();
    writer->client = std::make_unique<RespClient>(port, std::chrono::seconds(20), tls);
    if (!auth.empty() && writer->client->call(auth) != "+OK\r\n") {
      throw std::runtime_error("a writer could not log in");
    }
    writer->counter = prefix_ + ":counter:" + std::to_string(i);
    writers_.push_back(std::move(writer));
  }
  for (int i = 0; i < writers; ++i) {
    Writer& writer = *writers_[static_cast<std::size_t>(i)];
    writer.thread = std::thread([this, &writer, i] { run(writer, i); });
  }
}

WriteWorkload::~WriteWorkload() {
  stop();
}

void WriteWorkload::stop() {
  running_ = false;
  for (auto& writer : writers_) {
    if (writer->thread.joinable()) writer->thread.join();
  }
}

void WriteWorkload::run(Writer& writer, int index) {
  auto last_ack = std::chrono::steady_clock::now();
  auto acknowledge = [&] {
    const auto now = std::chrono::steady_clock::now();
    writer.longest_gap = std::max(
        writer.longest_gap, std::chrono::duration_cast<std::chrono::milliseconds>(now - last_ack));
    last_ack = now;
    ++acknowledged_;
  };
  for (long sequence = 0; running_; ++sequence) {
    const std::string incr = writer.client->call({"INCR", writer.counter});
    if (incr.starts_with(':')) {
      const long value = std::stol(incr.substr(1));
      if (value <= writer.counter_acked)
        writer.counter_regressions += writer.counter_acked - value + 1;
      writer.counter_acked = value;
      acknowledge();
    } else {
      writer.errors.push_back(incr.empty() ? "<no reply>" : incr);
      if (incr.empty()) return;
    }
    const std::string key =
        prefix_ + ":key:" + std::to_string(index) + ":" + std::to_string(sequence);
    const std::string set = writer.client->call({"SET", key, "v"});
    if (set == "+OK\r\n") {
      writer.keys_acked.push_back(key);
      acknowledge();
    } else {
      writer.errors.push_back(set.empty() ? "<no reply>" : set);
      if (set.empty()) return;
    }
    // Paced, not flat out: two labs run side by side in the suite, and on
    // two saturated cores Sentinel misses its own down-after deadlines and
    // fails over a healthy master a second time (seen in CI: the promoted
    // node, 3 s old, was failed over to a replica that lagged behind it).
    std::this_thread::sleep_for(kPause);
  }
}

WriteWorkload::Outcome WriteWorkload::check(RespClient& master) const {
  Outcome outcome;
  outcome.acknowledged = acknowledged_.load();
  for (const auto& writer : writers_) {
    outcome.errors.insert(outcome.errors.end(), writer->errors.begin(), writer->errors.end());
    outcome.longest_gap = std::max(outcome.longest_gap, writer->longest_gap);
    const std::string value = RespClient::valueOf(master.call({"GET", writer->counter}));
    const long stored = value.empty() ? 0 : std::stol(value);
    if (stored < writer->counter_acked)
      outcome.lost_counter_increments += writer->counter_acked - stored;
    outcome.lost_counter_increments += writer->counter_regressions;
    // Pipelined EXISTS in batches small enough to stay within socket buffers.
    constexpr std::size_t kBatch = 1000;
    for (std::size_t from = 0; from < writer->keys_acked.size(); from += kBatch) {
      const std::size_t to = std::min(from + kBatch, writer->keys_acked.size());
      std::string batch;
      for (std::size_t i = from; i < to; ++i) {
        batch += RespClient::encode({"EXISTS", writer->keys_acked[i]});
      }
      master.sendRaw(batch);
      for (std::size_t i = from; i < to; ++i) {
        const auto reply = master.readReply();
        if (!reply) throw std::runtime_error("no reply from the master while checking writes");
        if (*reply != ":1\r\n") {
          ++outcome.lost_keys;
          if (outcome.lost_key_samples.size() < 5) {
            outcome.lost_key_samples.push_back(writer->keys_acked[i] + " of " +
                                               std::to_string(writer->keys_acked.size()));
          }
        }
      }
    }
  }
  return outcome;
}

}  // namespace rhp::test
