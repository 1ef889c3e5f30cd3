#include "proxy/hold_queue.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>

namespace rhp::proxy {
namespace {

RequestPtr request(std::string payload) {
  auto made = newRequest();
  made->payload = std::move(payload);
  return made;
}

TEST(HoldQueue, ReleasesInArrivalOrderWithPutBackRequestsFirst) {
  HoldQueue queue(std::chrono::milliseconds(1000), 1 << 20);
  auto a = request("a");
  auto b = request("b");
  ASSERT_TRUE(queue.hold(a, 10));
  ASSERT_TRUE(queue.hold(b, 11));
  std::vector<RequestPtr> first;
  first.push_back(request("x"));
  first.push_back(request("y"));
  queue.holdAtFront(std::move(first), 12);
  std::vector<RequestPtr> second;
  second.push_back(request("z"));
  queue.holdAtFront(std::move(second), 13);
  std::string order;
  while (!queue.empty()) order += queue.pop()->payload;
  EXPECT_EQ(order, "xyzab");
  EXPECT_EQ(queue.bytes(), 0u);
}

TEST(HoldQueue, TakeIfRemovesChosenRequestsInOrderAndKeepsPutBackOnesFirst) {
  HoldQueue queue(std::chrono::milliseconds(1000), 1 << 20);
  for (const char* payload : {"a", "B", "c"}) {
    auto held = request(payload);
    ASSERT_TRUE(queue.hold(held, 10));
  }
  std::vector<RequestPtr> back;
  back.push_back(request("X"));
  back.push_back(request("y"));
  queue.holdAtFront(std::move(back), 11);  // queue: X y a B c
  std::string seen;
  auto taken = queue.takeIf([&](const Request& held) {
    seen += held.payload;
    return std::islower(static_cast<unsigned char>(held.payload[0])) != 0;
  });
  EXPECT_EQ(seen, "XyaBc");
  std::string order;
  for (const auto& item : taken) order += item->payload;
  EXPECT_EQ(order, "yac");
  EXPECT_EQ(queue.bytes(), 2u);
  // X is still a put-back entry: a later put-back goes behind it, ahead of B.
  std::vector<RequestPtr> again;
  again.push_back(request("Z"));
  queue.holdAtFront(std::move(again), 12);
  order.clear();
  while (!queue.empty()) order += queue.pop()->payload;
  EXPECT_EQ(order, "XZB");
}

TEST(HoldQueue, RefusesPastTheByteBoundAndWhenHoldingIsOff) {
  HoldQueue bounded(std::chrono::milliseconds(1000), 5);
  auto small = request("1234");
  auto big = request("12");
  EXPECT_TRUE(bounded.hold(small, 1));
  EXPECT_FALSE(bounded.hold(big, 1));
  EXPECT_NE(big, nullptr);  // still the caller's, to answer with an error
  HoldQueue off(std::chrono::milliseconds(0), 1 << 20);
  auto any = request("x");
  EXPECT_FALSE(off.hold(any, 1));
}

TEST(HoldQueue, ExpiresOnlyRequestsHeldLongerThanTheBound) {
  HoldQueue queue(std::chrono::milliseconds(100), 1 << 20);
  auto old_one = request("old");
  auto new_one = request("new");
  queue.hold(old_one, 1000);
  queue.hold(new_one, 1050);
  std::vector<std::string> expired;
  queue.expire(1100, [&](RequestPtr gone) { expired.push_back(gone->payload); });
  EXPECT_EQ(expired, std::vector<std::string>{"old"});
  EXPECT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue.bytes(), 3u);
}

}  // namespace
}  // namespace rhp::proxy
