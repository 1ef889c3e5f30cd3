#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tests/support/lab.h"
#include "tests/support/proxy_process.h"

namespace rhp::test {
namespace {

std::string readAll(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

/* Debian's python3-redis, used the way applications use it, through the
 * proxy with the default read policy (reads on replicas). */
TEST(ClientLibrary, RedisPyWorksThroughTheProxy) {
  Lab lab;
  ProxyProcess proxy(lab.dir(), lab.proxyArgs());
  ASSERT_TRUE(proxy.waitUntilWritable()) << proxy.log();
  const std::string output = lab.dir() + "/redis-py.out";
  const std::string command = std::string("/usr/bin/python3 ") + RHP_SOURCE_DIR +
                              "/tests/compat/redis_py_compat.py " + std::to_string(proxy.port()) +
                              " > " + output + " 2>&1";
  const int status = std::system(command.c_str());
  EXPECT_EQ(status, 0) << readAll(output) << "\nproxy log:\n" << proxy.log();
  EXPECT_NE(readAll(output).find("all checks passed"), std::string::npos) << readAll(output);
  EXPECT_TRUE(proxy.running());
}

}  // namespace
}  // namespace rhp::test
