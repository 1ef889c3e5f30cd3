#include "config/config_reload.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace rhp::config {
namespace {

bool contains(const std::vector<std::string>& items, const std::string& item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

TEST(ConfigReload, AppliesLiveSettingsAndKeepsRestartOnlyOnes) {
  Config running;
  running.sentinel.master_name = "app-cache";
  Config next = running;
  next.proxy.max_clients = 50;
  next.backend.request_timeout = milliseconds(200);
  next.routing.max_replica_lag = milliseconds(300);
  next.sentinel.addresses = {loopbackAddress(26390)};
  next.proxy.listen = loopbackAddress(7777);
  next.proxy.workers = 7;
  next.sentinel.master_name = "other";
  next.admin.enabled = false;
  next.log.json = true;

  const auto plan = planReload(running, next);
  EXPECT_EQ(plan.applied.proxy.max_clients, 50u);
  EXPECT_EQ(plan.applied.backend.request_timeout, milliseconds(200));
  EXPECT_EQ(plan.applied.routing.max_replica_lag, milliseconds(300));
  EXPECT_EQ(plan.applied.sentinel.addresses.size(), 1u);
  EXPECT_EQ(plan.applied.proxy.listen, running.proxy.listen);
  EXPECT_EQ(plan.applied.proxy.workers, running.proxy.workers);
  EXPECT_EQ(plan.applied.sentinel.master_name, "app-cache");
  EXPECT_TRUE(plan.applied.admin.enabled);
  EXPECT_FALSE(plan.applied.log.json);

  EXPECT_TRUE(contains(plan.changes, "proxy.max_clients: 10000 -> 50")) << plan.changes.size();
  EXPECT_TRUE(contains(plan.changes, "backend.request_timeout_ms: 5000 -> 200"));
  EXPECT_EQ(plan.changes.size(), 4u);
  for (const auto* key :
       {"proxy.listen", "proxy.workers", "sentinel.master_name", "admin.enabled", "log.format"}) {
    EXPECT_TRUE(contains(plan.kept_until_restart, key)) << key;
  }
  EXPECT_EQ(plan.kept_until_restart.size(), 5u);
}

TEST(ConfigReload, NamesANewPasswordWithoutShowingIt) {
  Config running;
  running.backend.password = "old-secret";
  Config next = running;
  next.backend.password = "new-secret";
  const auto plan = planReload(running, next);
  ASSERT_EQ(plan.changes, std::vector<std::string>{"backend.password: changed"});
  EXPECT_EQ(plan.applied.backend.password, "new-secret");
  EXPECT_TRUE(plan.kept_until_restart.empty());
}

TEST(ConfigReload, AnUnchangedFileChangesNothing) {
  const Config running;
  const auto plan = planReload(running, running);
  EXPECT_TRUE(plan.changes.empty());
  EXPECT_TRUE(plan.kept_until_restart.empty());
}

}  // namespace
}  // namespace rhp::config
