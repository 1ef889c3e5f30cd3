#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "tests/support/lab.h"
#include "tests/support/proxy_process.h"

namespace rhp::test {

/* One 3-node lab and a proxy with the default settings (prefer-replica,
 * round-robin, read-your-writes), started once for a whole suite: a lab
 * takes seconds to start and these tests do not fail it over. Each suite
 * deriving from it runs as one ctest entry (tests/CMakeLists.txt). */
class SharedLabTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    lab_ = std::make_unique<Lab>();
    proxy_ = std::make_unique<ProxyProcess>(lab_->dir(), lab_->proxyArgs());
    ASSERT_TRUE(proxy_->waitUntilWritable()) << proxy_->log();
    ASSERT_TRUE(proxy_->waitForEligibleReplicas(2)) << proxy_->log();
  }
  static void TearDownTestSuite() {
    if (proxy_) {
      EXPECT_EQ(proxy_->terminate(), 0);
    }
    proxy_.reset();
    lab_.reset();
  }
  void TearDown() override {
    ASSERT_TRUE(proxy_->running()) << "the proxy died; log:\n" << proxy_->log();
  }
  static std::size_t master() { return *lab_->sentinelMaster(); }

  static inline std::unique_ptr<Lab> lab_;
  static inline std::unique_ptr<ProxyProcess> proxy_;
};

}  // namespace rhp::test
