#include "proxy/request_pool.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rhp::proxy {
namespace {

TEST(RequestPool, HandsBackARecycledRequestResetWithItsPayloadCapacity) {
  RequestPool pool;
  const Request* first = nullptr;
  std::size_t capacity = 0;
  {
    auto request = pool.acquire();
    request->payload.assign(200, 'x');
    request->db = 3;
    request->retry_safe = true;
    request->resends = 2;
    first = request.get();
    capacity = request->payload.capacity();
  }
  EXPECT_EQ(pool.spare(), 1u);
  auto again = pool.acquire();
  EXPECT_EQ(again.get(), first);
  EXPECT_TRUE(again->payload.empty());
  EXPECT_EQ(again->payload.capacity(), capacity);
  EXPECT_EQ(again->db, 0u);
  EXPECT_FALSE(again->retry_safe);
  EXPECT_EQ(again->resends, 0u);
  EXPECT_FALSE(again->reply_to.waiting());
  EXPECT_EQ(pool.spare(), 0u);
}

TEST(RequestPool, FreesLargePayloadsAndKeepsABoundedNumberOfSpares) {
  RequestPool pool;
  {
    auto big = pool.acquire();
    big->payload.assign(RequestPool::kMaxKeptPayload * 4, 'x');
  }
  EXPECT_LE(pool.acquire()->payload.capacity(), RequestPool::kMaxKeptPayload);
  std::vector<RequestPtr> many;
  for (std::size_t i = 0; i < RequestPool::kMaxSpare + 10; ++i) many.push_back(pool.acquire());
  many.clear();
  EXPECT_EQ(pool.spare(), RequestPool::kMaxSpare);
}

}  // namespace
}  // namespace rhp::proxy
