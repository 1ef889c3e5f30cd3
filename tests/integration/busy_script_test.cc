#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <string>
#include <thread>

#include "tests/support/lab.h"
#include "tests/support/proxy_process.h"
#include "tests/support/resp_client.h"

namespace rhp::test {
namespace {

using namespace std::chrono_literals;

/* Busy for 10 s without writing, so SCRIPT KILL may end it. */
constexpr const char* kBusyScript =
    "local t = redis.call('TIME') "
    "while true do local n = redis.call('TIME') if n[1] - t[1] >= 10 then break end end "
    "return 1";

/* Issue 11 §3: a script running past busy-reply-threshold makes the master
 * answer -BUSY to everything but SCRIPT KILL and SHUTDOWN NOSAVE, ROLE
 * included. That is a live master: it stays confirmed (before, the proxy
 * held every write and answered -MASTERDOWN), and a SCRIPT KILL from
 * another client reaches it at once (before, it queued on the shared
 * connection behind the very script it was to end, for the script's 10 s). */
TEST(BusyScript, ScriptKillThroughTheProxyEndsItAndTheMasterStaysConfirmed) {
  Lab::Options options = Lab::singleNode();
  // Sentinel would itself SCRIPT KILL a master it found down for being busy.
  options.down_after_ms = 60000;
  options.extra_redis_config = {"busy-reply-threshold 200"};
  Lab lab(options);
  ProxyProcess proxy(
      lab.dir(), lab.proxyArgs("[proxy]\nworkers = 1\n[backend]\nrequest_timeout_ms = 20000\n"));
  ASSERT_TRUE(proxy.waitUntilWritable()) << proxy.log();
  RespClient scripter(proxy.port(), 20s);
  RespClient control(proxy.port(), 20s);
  scripter.sendRaw(RespClient::encode({"EVAL", kBusyScript, "0"}));
  auto node = lab.connectNode(0);
  ASSERT_TRUE(Lab::waitUntil([&] { return node->call({"PING"}).rfind("-BUSY", 0) == 0; }, 5s));
  // Two of the proxy's ROLE checks (one a second) meet the busy master.
  std::this_thread::sleep_for(2500ms);
  const std::string info = control.call({"PROXY", "INFO"});
  EXPECT_NE(info.find("master_status:confirmed"), std::string::npos) << info;
  // Writes sent meanwhile wait, in order, instead of queueing behind the
  // script on the master (where they would run after it even if Sentinel
  // had failed the node over).
  RespClient writer(proxy.port(), 20s);
  writer.sendRaw(RespClient::encode({"SET", "held", "1"}) +
                 RespClient::encode({"SET", "held", "2"}));

  // From another database: Redis refuses SELECT while busy, so the KILL
  // must not need one.
  ASSERT_EQ(control.call({"SELECT", "1"}), "+OK\r\n");
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(control.call({"SCRIPT", "KILL"}), "+OK\r\n");
  const std::string ended = scripter.readReply().value_or("(no reply)");
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(ended.rfind("-ERR Script killed by user with SCRIPT KILL", 0), 0u) << ended;
  // Well inside the 7 s the script had left: the KILL ended it, not time.
  EXPECT_LT(took, 5s);
  std::cerr << "SCRIPT KILL to the script's end: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n";
  EXPECT_EQ(writer.readReply().value_or("(none)"), "+OK\r\n");
  EXPECT_EQ(writer.readReply().value_or("(none)"), "+OK\r\n");
  EXPECT_EQ(writer.call({"GET", "held"}), "$1\r\n2\r\n");
  ASSERT_EQ(control.call({"SELECT", "0"}), "+OK\r\n");
  // No -MASTERDOWN before or after: writes go on.
  EXPECT_EQ(control.call({"SET", "after-the-script", "1"}), "+OK\r\n");
  EXPECT_EQ(scripter.call({"GET", "after-the-script"}), "$1\r\n1\r\n");
  // With nothing running, Redis's own answer comes back.
  EXPECT_EQ(control.call({"SCRIPT", "KILL"}).rfind("-NOTBUSY", 0), 0u);
  EXPECT_EQ(proxy.log().find("writes held"), std::string::npos) << proxy.log();
}

/* Issue 11 §2 with writes held: a write waiting for the busy master is
 * the client's own write all the same; the read pipelined behind it waits
 * for it instead of reading the old value from a replica. */
TEST(BusyScript, AReadPipelinedBehindAHeldWriteReadsThatWrite) {
  Lab::Options options;
  options.down_after_ms = 60000;
  options.extra_redis_config = {"busy-reply-threshold 200"};
  Lab lab(options);
  ProxyProcess proxy(lab.dir(), lab.proxyArgs("[backend]\nrequest_timeout_ms = 20000\n"));
  ASSERT_TRUE(proxy.waitUntilWritable()) << proxy.log();
  ASSERT_TRUE(proxy.waitForEligibleReplicas(2)) << proxy.log();
  const std::size_t master = *lab.sentinelMaster();
  auto node = lab.connectNode(master, 5s);
  ASSERT_EQ(node->call({"SET", "held:k", "old"}), "+OK\r\n");
  ASSERT_EQ(node->call({"WAIT", "2", "2000"}), ":2\r\n");
  RespClient scripter(proxy.port(), 20s);
  scripter.sendRaw(RespClient::encode({"EVAL", kBusyScript, "0"}));
  ASSERT_TRUE(Lab::waitUntil([&] { return node->call({"PING"}).rfind("-BUSY", 0) == 0; }, 5s));
  std::this_thread::sleep_for(2500ms);  // the proxy's ROLE checks met the busy master
  RespClient client(proxy.port(), 20s);
  client.sendRaw(RespClient::encode({"SET", "held:k", "new"}) +
                 RespClient::encode({"GET", "held:k"}));
  std::this_thread::sleep_for(300ms);
  RespClient control(proxy.port(), 20s);
  EXPECT_EQ(control.call({"SCRIPT", "KILL"}), "+OK\r\n");
  EXPECT_EQ(client.readReply().value_or("(none)"), "+OK\r\n");
  EXPECT_EQ(client.readReply().value_or("(none)"), "$3\r\nnew\r\n");
  EXPECT_TRUE(proxy.running());
}

}  // namespace
}  // namespace rhp::test
