#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <string>
#include <thread>

#include "tests/support/http_client.h"
#include "tests/support/lab.h"
#include "tests/support/proxy_process.h"
#include "tests/support/resp_client.h"

namespace rhp::test {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kMiB = 1024 * 1024;
/* ASan keeps freed memory resident (its quarantine), so resident size
 * bounds are checked in the Release run only; the rest holds in both. */
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kResidentSizeMeaningful = false;
#else
constexpr bool kResidentSizeMeaningful = true;
#endif
const std::string kBigValue(kMiB, 'v');
const std::string kBigBulk = "$" + std::to_string(kMiB) + "\r\n" + kBigValue + "\r\n";

/* Issue 12 §3: each case below took the proxy from 8 MB to 310-763 MB
 * before; the bounds leave room for the allocator and the backlog, and are
 * a quarter or less of what the case cost then. */
class ClientMemory : public ::testing::Test {
 protected:
  void start(const std::string& toml = "") {
    lab_ = std::make_unique<Lab>(Lab::singleNode());
    proxy_ = std::make_unique<ProxyProcess>(lab_->dir(), lab_->proxyArgs(toml));
    ASSERT_TRUE(proxy_->waitUntilWritable()) << proxy_->log();
    RespClient direct(lab_->nodePort(0));
    ASSERT_EQ(direct.call({"SET", "mem:big", kBigValue}), "+OK\r\n");
    // One big reply through the proxy first, so the baseline includes the
    // buffers any 1 MiB reply needs.
    RespClient warm(proxy_->port());
    ASSERT_EQ(warm.call({"GET", "mem:big"}), kBigBulk);
    baseline_ = proxy_->residentBytes();
    ASSERT_GT(baseline_, 0u);
  }

  /* The largest resident size seen while polling for `span`, over the baseline. */
  std::size_t peakGrowth(std::chrono::milliseconds span) const {
    std::size_t peak = 0;
    const auto until = std::chrono::steady_clock::now() + span;
    while (std::chrono::steady_clock::now() < until) {
      peak = std::max(peak, proxy_->residentBytes());
      std::this_thread::sleep_for(50ms);
    }
    return growth(peak);
  }

  /* Over the baseline, printed so a run shows the measurement. */
  std::size_t growth(std::size_t peak) const {
    const std::size_t grown = peak > baseline_ ? peak - baseline_ : 0;
    std::cout << "proxy RSS " << baseline_ / kMiB << " MiB -> peak " << peak / kMiB << " MiB\n";
    return grown;
  }

  double metric(const std::string& series) const {
    return sampleValue(httpGet(proxy_->adminPort(), "/metrics").body, series);
  }

  std::unique_ptr<Lab> lab_;
  std::unique_ptr<ProxyProcess> proxy_;
  std::size_t baseline_ = 0;
};

/* 1,000 GETs of a 1 MiB value in one write, and no reads: the proxy stops
 * reading the client (backpressure) instead of holding 1 GB of replies, and
 * once the client reads, every reply arrives, in order: nothing is dropped. */
TEST_F(ClientMemory, PipelinedBigRepliesNobodyReadsAreBoundedAndAllArriveLater) {
  start();
  RespClient client(proxy_->port(), 20000ms);
  std::string pipeline;
  for (int i = 0; i < 1000; ++i) pipeline += RespClient::encode({"GET", "mem:big"});
  client.sendRaw(pipeline);
  const std::size_t grown = peakGrowth(3000ms);
  EXPECT_LT(kResidentSizeMeaningful ? grown : 0, 150 * kMiB)
      << "RSS grew by " << grown / kMiB << " MiB";
  EXPECT_GE(metric("redis_ha_proxy_client_output_backlog_pauses_total"), 1);
  EXPECT_GT(metric("redis_ha_proxy_client_memory_bytes"), 8.0 * kMiB);
  for (int i = 0; i < 1000; ++i) {
    const auto reply = client.readReply();
    ASSERT_TRUE(reply.has_value()) << "reply " << i << " missing";
    ASSERT_EQ(*reply, kBigBulk) << "reply " << i;
  }
  EXPECT_EQ(client.call({"PING"}), "+PONG\r\n");
}

/* Redis's `client-output-buffer-limit pubsub 32mb 8mb 60`, kept by the
 * proxy: a subscriber that never reads is disconnected (logged, counted),
 * while one that reads gets every message. */
TEST_F(ClientMemory, ASubscriberThatNeverReadsIsDisconnectedAtThePubSubLimit) {
  start();
  RespClient stalled(proxy_->port(), 20000ms);
  RespClient reading(proxy_->port(), 20000ms);
  for (RespClient* subscriber : {&stalled, &reading}) {
    ASSERT_EQ(subscriber->call({"SUBSCRIBE", "mem:ch"}),
              "*3\r\n$9\r\nsubscribe\r\n$6\r\nmem:ch\r\n:1\r\n");
  }
  constexpr int kMessages = 300;
  std::atomic<int> received{0};
  std::thread reader([&] {
    const std::string expected =
        "*3\r\n$7\r\nmessage\r\n$6\r\nmem:ch\r\n" + kBigBulk;  // a RESP2 push
    for (int i = 0; i < kMessages; ++i) {
      const auto message = reading.readReply();
      if (!message || *message != expected) return;
      ++received;
    }
  });
  RespClient publisher(lab_->nodePort(0));
  std::size_t peak = 0;
  for (int i = 0; i < kMessages; ++i) {
    // The reading subscriber stays at most 4 MiB behind, under both limits:
    // a reader slower than the publisher would be dropped too, as by Redis.
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (i - received.load() > 4 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(1ms);
    }
    ASSERT_EQ(publisher.call({"PUBLISH", "mem:ch", kBigValue}).rfind(":", 0), 0u);
    if (i % 10 == 0) peak = std::max(peak, proxy_->residentBytes());
  }
  reader.join();
  EXPECT_EQ(received.load(), kMessages);
  EXPECT_TRUE(stalled.waitForClose());
  const std::size_t grown = growth(peak);
  EXPECT_LT(kResidentSizeMeaningful ? grown : 0, 100 * kMiB)
      << "RSS grew by " << grown / kMiB << " MiB";
  EXPECT_EQ(metric("redis_ha_proxy_client_output_buffer_limit_disconnections_total"), 1);
  EXPECT_EQ(proxy_->countInLog("overcoming of output buffer limits class=pubsub"), 1u)
      << proxy_->log();
}

/* A client blocked in BLPOP ... 0 that keeps sending 1 MiB SETs: Redis
 * would not read them either until BLPOP returns; the proxy holds at most
 * proxy.client_output_backlog of them, then runs them all, in order. */
TEST_F(ClientMemory, RequestsQueuedBehindABlockedClientAreBounded) {
  start();
  constexpr int kSets = 400;
  RespClient client(proxy_->port(), 60000ms);
  client.sendRaw(RespClient::encode({"BLPOP", "mem:list", "0"}));
  std::thread writer([&] {
    for (int i = 0; i < kSets; ++i) {
      client.sendRaw(RespClient::encode({"SET", "mem:k" + std::to_string(i), kBigValue}));
    }
  });
  const std::size_t grown = peakGrowth(3000ms);
  EXPECT_LT(kResidentSizeMeaningful ? grown : 0, 100 * kMiB)
      << "RSS grew by " << grown / kMiB << " MiB";
  RespClient direct(lab_->nodePort(0));
  EXPECT_EQ(direct.call({"EXISTS", "mem:k0"}), ":0\r\n");  // still behind BLPOP
  ASSERT_EQ(direct.call({"LPUSH", "mem:list", "x"}), ":1\r\n");
  EXPECT_EQ(client.readReply().value_or("(none)"), "*2\r\n$8\r\nmem:list\r\n$1\r\nx\r\n");
  for (int i = 0; i < kSets; ++i) ASSERT_EQ(client.readReply().value_or("(none)"), "+OK\r\n") << i;
  writer.join();
  EXPECT_EQ(direct.call({"STRLEN", "mem:k" + std::to_string(kSets - 1)}),
            ":" + std::to_string(kMiB) + "\r\n");
}

/* Redis's `maxmemory-clients`: past it the client holding the most is
 * closed; a small client goes on. */
TEST_F(ClientMemory, MaxMemoryClientsEvictsTheLargestClient) {
  start("[proxy]\nclient_output_backlog = \"64mb\"\nmaxmemory_clients = \"24mb\"\n");
  RespClient small(proxy_->port());
  ASSERT_EQ(small.call({"SET", "mem:small", "1"}), "+OK\r\n");
  RespClient big(proxy_->port(), 20000ms);
  std::string pipeline;
  for (int i = 0; i < 60; ++i) pipeline += RespClient::encode({"GET", "mem:big"});
  big.sendRaw(pipeline);
  // Unread, its replies pile up in the proxy past the ceiling. Reading them
  // at once (waitForClose) could keep it under on a slow machine: the test
  // failed that way while a build ran beside it.
  EXPECT_TRUE(
      Lab::waitUntil([&] { return metric("redis_ha_proxy_evicted_clients_total") >= 1; }, 20s));
  EXPECT_TRUE(big.waitForClose());
  EXPECT_EQ(small.call({"GET", "mem:small"}), "$1\r\n1\r\n");
  EXPECT_EQ(metric("redis_ha_proxy_evicted_clients_total"), 1);
  EXPECT_EQ(proxy_->countInLog("evicting client"), 1u) << proxy_->log();
  EXPECT_LT(metric("redis_ha_proxy_client_memory_bytes"), 1.0 * kMiB);
}

/* A client paused for backpressure that goes away is noticed (its queued
 * writes fail) and its session freed; and a subscriber whose window shrank
 * to one after a big reply can still unsubscribe. */
TEST_F(ClientMemory, APausedClientThatLeavesIsFreedAndASubscriberCanAlwaysLeave) {
  start("[proxy]\nclient_output_backlog = \"1mb\"\n");
  {
    RespClient leaver(proxy_->port());
    std::string pipeline;
    for (int i = 0; i < 100; ++i) pipeline += RespClient::encode({"GET", "mem:big"});
    leaver.sendRaw(pipeline);
    ASSERT_TRUE(Lab::waitUntil(
        [&] { return metric("redis_ha_proxy_client_output_backlog_pauses_total") >= 1; }, 5s));
  }  // closed unread: a reset
  EXPECT_TRUE(Lab::waitUntil([&] { return metric("redis_ha_proxy_client_connections") == 0; }, 5s))
      << metric("redis_ha_proxy_client_connections");

  RespClient subscriber(proxy_->port());
  ASSERT_EQ(subscriber.call({"GET", "mem:big"}), kBigBulk);  // window 1 from here
  ASSERT_EQ(subscriber.call({"SUBSCRIBE", "mem:a"}),
            "*3\r\n$9\r\nsubscribe\r\n$5\r\nmem:a\r\n:1\r\n");
  EXPECT_EQ(subscriber.call({"UNSUBSCRIBE", "mem:a"}),
            "*3\r\n$11\r\nunsubscribe\r\n$5\r\nmem:a\r\n:0\r\n");
  EXPECT_EQ(subscriber.call({"PING"}), "+PONG\r\n");
}

}  // namespace
}  // namespace rhp::test
