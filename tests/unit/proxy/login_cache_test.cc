#include "proxy/login_cache.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace rhp::proxy {
namespace {

std::shared_ptr<const BackendLogin> login(const std::string& name, const std::string& password) {
  return std::make_shared<const BackendLogin>(BackendLogin{name, password, {"-echo"}});
}

TEST(LoginCache, AcceptsTheSameUserAndPasswordOnlyWithinItsTime) {
  LoginCache cache;
  const auto reader = login("reader", "rpw");
  cache.remember(reader, 1000);
  EXPECT_EQ(cache.find("reader", "rpw", 1000 + 9'999, 10'000), reader);    // the one sessions share
  EXPECT_EQ(cache.find("reader", "rpw", 1000 + 10'000, 10'000), nullptr);  // expired
  EXPECT_EQ(cache.find("reader", "other", 1001, 10'000), nullptr);
  EXPECT_EQ(cache.find("readerr", "pw", 1001, 10'000), nullptr);  // name and password apart
  EXPECT_EQ(cache.find("reader", "rpw", 1001, 0), nullptr);       // 0: always ask
}

TEST(LoginCache, KeepsNoPasswordButGivesANewLoginWithTheSameRights) {
  LoginCache cache;
  cache.remember(login("reader", "rpw"), 0);  // nobody holds it any more
  const auto again = cache.find("reader", "rpw", 1, 10'000);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->username, "reader");
  EXPECT_EQ(again->password, "rpw");  // the client's, given again now
  EXPECT_EQ(again->refused, std::vector<std::string>{"-echo"});
}

TEST(LoginCache, ForgetsTheOldestPastItsBound) {
  LoginCache cache;
  std::vector<std::shared_ptr<const BackendLogin>> held;
  for (int i = 0; i < 1025; ++i) {
    held.push_back(login("user" + std::to_string(i), "pw"));
    cache.remember(held.back(), static_cast<std::uint64_t>(i));
  }
  EXPECT_EQ(cache.find("user0", "pw", 2000, 10'000), nullptr);
  EXPECT_EQ(cache.find("user1", "pw", 2000, 10'000), held[1]);
  EXPECT_EQ(cache.find("user1024", "pw", 2000, 10'000), held[1024]);
}

}  // namespace
}  // namespace rhp::proxy
