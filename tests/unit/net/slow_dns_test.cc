/* A DNS server that never answers must not hold up an event loop: before
 * async lookups, one host name announced by Sentinel made the control loop
 * wait in getaddrinfo (config::makeAddress, from the monitor's replies and
 * events), up to 10 s with glibc's defaults, and failover handling with it.
 *
 * The honest setting is a real resolver asking a real, silent server, so
 * SlowDns re-runs this binary under `unshare -rmn` (a user, mount and
 * network namespace: no root needed) with /etc/resolv.conf bind-mounted to
 * name 127.0.0.1, where SlowDnsInside holds a UDP socket on port 53 that
 * reads the queries and never answers. It is skipped, with the reason, where
 * unprivileged namespaces are not allowed.
 *
 * Sentinel itself is not in the picture: making sentinels announce names
 * (announce-hostnames, replica-announce-ip) needs those names to resolve for
 * the sentinels and the replicas too, which a silent DNS server prevents. So
 * the test is at the seam that matters: a name reaches makeAddress, a
 * RedisLink (the monitor's connection) and a StreamLink (the workers'), and
 * the loop's timers keep firing on time. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "config/address.h"
#include "health/redis_link.h"
#include "net/stream_link.h"
#include "net/uv_handle.h"

namespace rhp {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kInsideVariable = "RHP_SLOW_DNS_INSIDE";
// Not in /etc/hosts, so glibc asks the DNS server ("hosts: files dns").
constexpr const char* kName = "redis-master.rhp-test";

int run(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(SlowDns, ALookupDnsNeverAnswersHoldsUpNoLoop) {
  if (std::getenv(kInsideVariable) != nullptr) GTEST_SKIP() << "already inside the namespace";
  if (run("unshare -rmn sh -c 'ip link set lo up' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "unprivileged user+mount+network namespaces (unshare -rmn) or ip(8) are "
                    "unavailable here";
  }
  const auto dir =
      std::filesystem::temp_directory_path() / ("rhp-slow-dns-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto resolv = dir / "resolv.conf";
  // One try of 2 s: long enough to see the loop go on, short enough for the suite.
  std::ofstream(resolv) << "nameserver 127.0.0.1\noptions timeout:2 attempts:1\n";
  const std::string self = std::filesystem::read_symlink("/proc/self/exe");
  const int code =
      run(std::string(kInsideVariable) + "=1 unshare -rmn sh -c 'ip link set lo up && " +
          "mount --bind \"$0\" /etc/resolv.conf && exec \"$1\" " +
          "--gtest_filter=SlowDnsInside.*' " + resolv.string() + " " + self);
  std::filesystem::remove_all(dir);
  EXPECT_EQ(code, 0) << "SlowDnsInside failed; its output is above";
}

/* Counts a 10 ms timer's ticks and the longest gap between two. */
struct Ticker {
  explicit Ticker(uv_loop_t* loop) {
    uv_timer_init(loop, timer.allocate());
    timer->data = this;
    last = Clock::now();
    uv_timer_start(
        timer.get(),
        [](uv_timer_t* handle) {
          auto* self = static_cast<Ticker*>(handle->data);
          const auto now = Clock::now();
          self->longest = std::max(self->longest, now - self->last);
          self->last = now;
          ++self->ticks;
        },
        10, 10);
  }
  net::UvHandle<uv_timer_t> timer;
  Clock::time_point last;
  Clock::duration longest{};
  int ticks = 0;
};

struct Owner : net::StreamLink::Owner {
  std::span<char> readRoom() override { return room; }
  void onBytesIn(std::span<const char>) override {}
  void onLinkUp() override { ++ups; }
  void onLinkDown(int status) override {
    downs.push_back(status);
    down_at = Clock::now();
  }
  std::vector<char> room = std::vector<char>(16);
  int ups = 0;
  std::vector<int> downs;
  Clock::time_point down_at;
};

TEST(SlowDnsInside, NamesAreLookedUpOffTheLoop) {
  if (std::getenv(kInsideVariable) == nullptr) GTEST_SKIP() << "run by SlowDns in a namespace";
  if (!spdlog::get("health")) spdlog::create<spdlog::sinks::null_sink_st>("health");

  // The silent DNS server: reads, never answers.
  const int dns = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  ASSERT_GE(dns, 0);
  sockaddr_in where{};
  where.sin_family = AF_INET;
  where.sin_port = htons(53);
  where.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(dns, reinterpret_cast<sockaddr*>(&where), sizeof(where)), 0);

  // The control path: a name Sentinel reports becomes an address at once.
  const auto before = Clock::now();
  const auto address = config::makeAddress(kName, "6379");
  EXPECT_LT(Clock::now() - before, 100ms) << "makeAddress asked DNS";
  ASSERT_TRUE(address);
  EXPECT_EQ(address->host, kName);

  uv_loop_t loop{};
  uv_loop_init(&loop);
  {
    Ticker ticker(&loop);
    // A worker's connection to a master announced by name, with a connect
    // timeout past the test's window, and a monitor's link with its 300 ms.
    Owner owner;
    auto link = std::make_unique<net::StreamLink>(&loop, owner);
    ASSERT_EQ(link->connect(kName, 6379, 5000ms), 0);
    health::RedisLink::Options options;
    options.connect_timeout = 300ms;
    auto redis = std::make_unique<health::RedisLink>(&loop, *address, options);
    bool answered = false;
    Clock::time_point answered_at;
    const auto started = Clock::now();
    redis->command({"ROLE"}, [&](const redisReply* reply) {
      answered = true;
      answered_at = Clock::now();
      EXPECT_EQ(reply, nullptr);
    });

    while (Clock::now() - started < 800ms) {
      uv_run(&loop, UV_RUN_NOWAIT);
      std::this_thread::sleep_for(1ms);
    }
    // The queries reached the server, which is still silent (2 s timeout).
    char query[512];
    EXPECT_GT(::recv(dns, query, sizeof(query), 0), 0) << "no DNS query was made";
    // 80 ticks in 800 ms if nothing waits; a 100 ms gap allows ASan and a
    // shared CPU, and is 20 times shorter than the lookup.
    EXPECT_GE(ticker.ticks, 40);
    EXPECT_LT(ticker.longest, 100ms);
    // The monitor's command failed on its connect timeout, lookup included,
    // instead of waiting for DNS.
    EXPECT_TRUE(answered);
    EXPECT_LT(answered_at - started, 600ms);
    EXPECT_FALSE(redis->connected());
    EXPECT_EQ(owner.ups, 0);
    EXPECT_TRUE(owner.downs.empty());  // its lookup is still outstanding

    // Both go while their lookups are still with the thread pool: the
    // answers (a timeout, at 2 s) must reach no one.
    link.reset();
    redis.reset();
  }
  // Runs until libuv has handed back every request, lookups included.
  uv_run(&loop, UV_RUN_DEFAULT);
  EXPECT_EQ(uv_loop_close(&loop), 0);
  ::close(dns);
}

}  // namespace
}  // namespace rhp
