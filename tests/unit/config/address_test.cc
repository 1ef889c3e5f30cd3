#include "config/address.h"

#include <gtest/gtest.h>

#include "config/config_loader.h"

namespace rhp::config {
namespace {

// ".invalid" never resolves (RFC 6761); none of these tests asks DNS.
TEST(Address, KeepsANameForTheConnectToLookUp) {
  const auto address = makeAddress("redis-1.rhp.invalid", "6379");
  ASSERT_TRUE(address);
  EXPECT_EQ(address->host, "redis-1.rhp.invalid");
  EXPECT_EQ(address->port, 6379);
  EXPECT_EQ(address->toString(), "redis-1.rhp.invalid:6379");
}

TEST(Address, TakesIpLiteralsAsTheyAre) {
  EXPECT_EQ(makeAddress("10.0.0.7", "26379")->toString(), "10.0.0.7:26379");
  EXPECT_EQ(makeAddress("::1", "6379")->toString(), "[::1]:6379");
  std::string error;
  EXPECT_EQ(parseAddress("[fe80::1]:7000", error)->host, "fe80::1");
  const auto numeric = resolveBlocking(*makeAddress("::1", "6379"), error);
  ASSERT_TRUE(numeric);
  EXPECT_EQ(numeric->ss_family, AF_INET6);
}

TEST(Address, RefusesWhatIsNeitherAnIpNorAName) {
  std::string error;
  EXPECT_FALSE(parseAddress("red is:6379", error));
  EXPECT_EQ(error, "the host is neither an IP address nor a host name");
  EXPECT_FALSE(makeAddress("a\nb", "6379"));
  EXPECT_FALSE(makeAddress(std::string(254, 'a'), "6379"));  // RFC 1035: 253 at most
  EXPECT_FALSE(makeAddress("10.0.0.7", "0"));
  EXPECT_FALSE(makeAddress("", "6379"));
}

// A reload runs on the control loop: it checks the syntax and asks no DNS,
// so a name that does not resolve is still taken.
TEST(Address, AReloadDoesNotLookNamesUp) {
  const Config config =
      loadConfigFromString("[sentinel]\naddresses = [\"sentinel-1.rhp.invalid:26379\"]\n",
                           "test.toml", {}, HostNames::SyntaxOnly);
  ASSERT_EQ(config.sentinel.addresses.size(), 1u);
  EXPECT_EQ(config.sentinel.addresses[0].host, "sentinel-1.rhp.invalid");
}

}  // namespace
}  // namespace rhp::config
