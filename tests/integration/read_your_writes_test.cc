#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/lab.h"
#include "tests/support/proxy_process.h"
#include "tests/support/resp_client.h"
#include "tests/support/shared_lab_test.h"

namespace rhp::test {
namespace {

using namespace std::chrono_literals;

/* Issue 11 §2: with the default read policy (prefer-replica) a connection
 * reads its own writes and never older data than it read before, as on
 * one Redis; connections that only read keep reading from replicas. */

std::string bulk(const std::string& value) {
  return "$" + std::to_string(value.size()) + "\r\n" + value + "\r\n";
}

/* `pairs` pipelined [SET key v<i>, GET key], `batch` pairs per write, as
 * client libraries pipeline; returns how many GETs answered anything but
 * the value just set. */
int staleReadsOfPipelinedPairs(std::uint16_t port, const std::string& key, int pairs, int batch) {
  RespClient client(port);
  int stale = 0;
  for (int first = 0; first < pairs; first += batch) {
    std::string bytes;
    for (int i = first; i < first + batch; ++i) {
      bytes += RespClient::encode({"SET", key, "v" + std::to_string(i)});
      bytes += RespClient::encode({"GET", key});
    }
    client.sendRaw(bytes);
    for (int i = first; i < first + batch; ++i) {
      EXPECT_EQ(client.readReply().value_or("timeout"), "+OK\r\n");
      if (client.readReply().value_or("timeout") != bulk("v" + std::to_string(i))) ++stale;
    }
  }
  return stale;
}

std::string readAll(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

class ReadYourWrites : public SharedLabTest {};

TEST_F(ReadYourWrites, PipelinedSetThenGetAlwaysReadsTheValueJustSet) {
  EXPECT_EQ(staleReadsOfPipelinedPairs(proxy_->port(), "ryw:pipelined", 10000, 100), 0);
  // Request by request, too.
  RespClient client(proxy_->port());
  int stale = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::string value = "w" + std::to_string(i);
    ASSERT_EQ(client.call({"SET", "ryw:sequential", value}), "+OK\r\n");
    if (client.call({"GET", "ryw:sequential"}) != bulk(value)) ++stale;
  }
  EXPECT_EQ(stale, 0);
}

TEST_F(ReadYourWrites, WithoutItTheSamePipelineReadsOlderValues) {
  // The check above can fail: with routing.read_your_writes off the GETs
  // go to replicas at once and see the previous value (or none).
  ProxyProcess eventual(lab_->dir(), lab_->proxyArgs("[routing]\nread_your_writes = false\n"));
  ASSERT_TRUE(eventual.waitUntilWritable()) << eventual.log();
  ASSERT_TRUE(eventual.waitForEligibleReplicas(2)) << eventual.log();
  EXPECT_GT(staleReadsOfPipelinedPairs(eventual.port(), "ryw:eventual", 2000, 100), 0);
  EXPECT_EQ(eventual.terminate(), 0);
}

TEST_F(ReadYourWrites, AnEightMegabyteWriteIsReadBack) {
  RespClient client(proxy_->port(), 30s);
  for (char fill : {'a', 'b', 'c'}) {
    const std::string value(8 * 1024 * 1024, fill);
    client.sendRaw(RespClient::encode({"SET", "ryw:big", value}) +
                   RespClient::encode({"GET", "ryw:big"}));
    ASSERT_EQ(client.readReply().value_or("timeout"), "+OK\r\n");
    EXPECT_TRUE(client.readReply().value_or("timeout") == bulk(value)) << "fill " << fill;
  }
}

TEST_F(ReadYourWrites, ConnectionsThatOnlyReadUseTheReplicas) {
  RespClient writer(proxy_->port());
  ASSERT_EQ(writer.call({"SET", "ryw:shared", "v"}), "+OK\r\n");
  std::this_thread::sleep_for(1s);  // the replicas have it, and the check knows
  lab_->resetStats();
  for (int c = 0; c < 20; ++c) {
    RespClient reader(proxy_->port());
    for (int i = 0; i < 5; ++i) ASSERT_EQ(reader.call({"GET", "ryw:shared"}), bulk("v"));
  }
  const std::size_t m = master();
  EXPECT_EQ(lab_->commandCalls(m, "get"), 0);
  for (std::size_t node = 0; node < lab_->nodeCount(); ++node) {
    // A connection stays on the replica it read from (monotonic reads);
    // new connections are spread round-robin by each worker.
    if (node != m) {
      EXPECT_GE(lab_->commandCalls(node, "get"), 25) << "node " << node;
    }
  }
}

TEST_F(ReadYourWrites, AWriterReadsFromReplicasAgainOnceTheyHaveItsWrite) {
  RespClient client(proxy_->port());
  ASSERT_EQ(client.call({"SET", "ryw:later", "1"}), "+OK\r\n");
  // Four replica checks (250 ms each): the master's offset after the SET
  // was asked, and the replicas reported having it.
  std::this_thread::sleep_for(1s);
  lab_->resetStats();
  ASSERT_EQ(client.call({"GET", "ryw:later"}), bulk("1"));
  EXPECT_EQ(lab_->commandCalls(master(), "get"), 0);
}

TEST_F(ReadYourWrites, AScanCursorsReplicaIsNotTrustedWithTheClientsWrite) {
  // A SCAN cursor goes to the replica that issued it, whatever the
  // connection wrote since; that must not make the replica count as one
  // the connection may read its write from.
  RespClient writer(proxy_->port());
  for (int i = 0; i < 100; ++i) writer.call({"SET", "ryw:scan:" + std::to_string(i), "x"});
  ASSERT_EQ(writer.call({"SET", "ryw:scan-k", "new0"}), "+OK\r\n");
  std::this_thread::sleep_for(1s);  // on the replicas, and reported
  RespClient client(proxy_->port());
  const std::string first = client.call({"SCAN", "0", "COUNT", "10"});
  // "*2\r\n$<n>\r\n<cursor>\r\n*...": the cursor is the first bulk string.
  const std::size_t length_at = first.find('$') + 1;
  const std::size_t cursor_at = first.find("\r\n", length_at) + 2;
  const std::string cursor =
      first.substr(cursor_at, std::stoul(first.substr(length_at, cursor_at - 2 - length_at)));
  ASSERT_NE(cursor, "0") << first;
  // Replication to both replicas stalls for a moment.
  for (std::size_t node = 0; node < lab_->nodeCount(); ++node) {
    if (node != master()) {
      ASSERT_EQ(lab_->connectNode(node)->call({"CLIENT", "PAUSE", "700", "WRITE"}), "+OK\r\n");
    }
  }
  ASSERT_EQ(client.call({"SET", "ryw:scan-k", "new1"}), "+OK\r\n");
  EXPECT_EQ(client.call({"SCAN", cursor, "COUNT", "10"}).substr(0, 1), "*");
  EXPECT_EQ(client.call({"GET", "ryw:scan-k"}), bulk("new1"));
}

/* Debian's python3-redis, the way applications pipeline. */
TEST_F(ReadYourWrites, RedisPyPipelinesReadTheirOwnWrites) {
  const std::string output = lab_->dir() + "/redis-py-ryw.out";
  const std::string command = std::string("/usr/bin/python3 ") + RHP_SOURCE_DIR +
                              "/tests/compat/redis_py_read_your_writes.py " +
                              std::to_string(proxy_->port()) + " > " + output + " 2>&1";
  EXPECT_EQ(std::system(command.c_str()), 0) << readAll(output);
  EXPECT_NE(readAll(output).find("stale reads: 0 of 11000"), std::string::npos) << readAll(output);
}

}  // namespace
}  // namespace rhp::test
