#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "tests/support/lab.h"
#include "tests/support/proxy_process.h"
#include "tests/support/resp_client.h"
#include "tests/support/shared_lab_test.h"

namespace rhp::test {
namespace {

using namespace std::chrono_literals;

class Routing : public SharedLabTest {};

TEST_F(Routing, SpreadsReadsOverTheReplicasAndWritesGoToTheMaster) {
  RespClient client(proxy_->port());
  ASSERT_EQ(client.call({"SET", "routing:k", "v"}), "+OK\r\n");
  lab_->resetStats();
  // Connections that have not written read from replicas; each stays on
  // the replica it first read from (monotonic reads), so 20 of them.
  for (int c = 0; c < 20; ++c) {
    RespClient reader(proxy_->port());
    for (int i = 0; i < 5; ++i) ASSERT_EQ(reader.call({"GET", "routing:k"}).substr(0, 1), "$");
  }
  ASSERT_EQ(client.call({"SET", "routing:k", "w"}), "+OK\r\n");
  const std::size_t m = master();
  EXPECT_EQ(lab_->commandCalls(m, "get"), 0);
  EXPECT_EQ(lab_->commandCalls(m, "set"), 1);
  long replica_gets = 0;
  for (std::size_t node = 0; node < lab_->nodeCount(); ++node) {
    if (node == m) continue;
    const long gets = lab_->commandCalls(node, "get");
    // Round-robin over two replicas: an even split of the connections (one
    // worker per core, each alternating on its own, so allow some imbalance).
    EXPECT_GE(gets, 25) << "node " << node;
    replica_gets += gets;
  }
  EXPECT_EQ(replica_gets, 100);
}

TEST_F(Routing, StopsReadingFromAReplicaThatIsDown) {
  const std::size_t m = master();
  const std::size_t stopped = m == 1 ? 2 : 1;
  lab_->signalNode(stopped, SIGSTOP);
  // Its INFO probe times out (sentinel.command_timeout_ms, 1 s).
  const bool dropped = Lab::waitUntil(
      [&] {
        return proxy_->log().find("replica not eligible for reads address=127.0.0.1:" +
                                  std::to_string(lab_->nodePort(stopped))) != std::string::npos;
      },
      5s);
  RespClient client(proxy_->port(), 3s);
  std::string replies;
  if (dropped) {
    for (int i = 0; i < 50; ++i) replies += client.call({"GET", "routing:k"}).substr(0, 1);
  }
  lab_->signalNode(stopped, SIGCONT);
  ASSERT_TRUE(dropped) << proxy_->log();
  EXPECT_EQ(replies, std::string(50, '$')) << "a read failed or timed out";
  lab_->resetStats();
  ASSERT_TRUE(proxy_->waitForEligibleReplicas(2)) << proxy_->log();
}

TEST_F(Routing, StopsReadingFromALaggingReplica) {
  const std::size_t m = master();
  const std::size_t paused = m == 1 ? 2 : 1;
  auto paused_node = lab_->connectNode(paused);
  // CLIENT PAUSE WRITE on a replica also postpones what its master sends:
  // it still answers INFO and PING (so neither the proxy nor Sentinel calls
  // it down) but stops applying the replication stream, so it falls behind.
  ASSERT_EQ(paused_node->call({"CLIENT", "PAUSE", "4000", "WRITE"}), "+OK\r\n");
  RespClient writer(proxy_->port());
  const bool dropped = Lab::waitUntil(
      [&] {
        writer.call({"INCR", "routing:lag"});
        return proxy_->log().find("address=127.0.0.1:" + std::to_string(lab_->nodePort(paused)) +
                                  " reason=\"lags") != std::string::npos;
      },
      4s);
  EXPECT_TRUE(dropped) << proxy_->log();
  paused_node->call({"CLIENT", "UNPAUSE"});
  ASSERT_TRUE(proxy_->waitForEligibleReplicas(2)) << proxy_->log();
}

TEST_F(Routing, TransactionsRunOnOneMasterConnection) {
  RespClient client(proxy_->port());
  client.call({"DEL", "routing:tx"});
  EXPECT_EQ(client.call({"MULTI"}), "+OK\r\n");
  EXPECT_EQ(client.call({"INCR", "routing:tx"}), "+QUEUED\r\n");
  EXPECT_EQ(client.call({"GET", "routing:tx"}), "+QUEUED\r\n");  // a read inside MULTI too
  EXPECT_EQ(client.call({"EXEC"}), "*2\r\n:1\r\n$1\r\n1\r\n");
  // A queued command with a wrong arity aborts the whole transaction, as in Redis.
  EXPECT_EQ(client.call({"MULTI"}), "+OK\r\n");
  EXPECT_EQ(client.call({"INCR", "routing:tx"}), "+QUEUED\r\n");
  EXPECT_EQ(client.call({"GET"}).rfind("-ERR wrong number of arguments", 0), 0u);
  EXPECT_EQ(client.call({"EXEC"}).rfind("-EXECABORT", 0), 0u);
  EXPECT_EQ(client.call({"DISCARD"}), "-ERR DISCARD without MULTI\r\n");
  EXPECT_EQ(client.call({"EXEC"}), "-ERR EXEC without MULTI\r\n");
  auto direct = lab_->connectNode(master());
  EXPECT_EQ(direct->call({"GET", "routing:tx"}), "$1\r\n1\r\n");
}

TEST_F(Routing, WatchConflictsAbortTheTransactionAsInRedis) {
  RespClient client(proxy_->port());
  RespClient other(proxy_->port());
  client.call({"SET", "routing:watched", "0"});
  EXPECT_EQ(client.call({"WATCH", "routing:watched"}), "+OK\r\n");
  EXPECT_EQ(other.call({"SET", "routing:watched", "changed"}), "+OK\r\n");
  EXPECT_EQ(client.call({"MULTI"}), "+OK\r\n");
  EXPECT_EQ(client.call({"SET", "routing:watched", "mine"}), "+QUEUED\r\n");
  EXPECT_EQ(client.call({"EXEC"}), "*-1\r\n");
  // Untouched, the same sequence commits.
  EXPECT_EQ(client.call({"WATCH", "routing:watched"}), "+OK\r\n");
  EXPECT_EQ(client.call({"MULTI"}), "+OK\r\n");
  EXPECT_EQ(client.call({"SET", "routing:watched", "mine"}), "+QUEUED\r\n");
  EXPECT_EQ(client.call({"EXEC"}), "*1\r\n+OK\r\n");
  EXPECT_EQ(lab_->connectNode(master())->call({"GET", "routing:watched"}), "$4\r\nmine\r\n");
}

TEST_F(Routing, ABlockedClientDoesNotSlowOthersDown) {
  RespClient blocked(proxy_->port());
  blocked.call({"DEL", "routing:queue"});
  blocked.sendRaw(RespClient::encode({"BLPOP", "routing:queue", "5"}));
  std::atomic<int> answered{0};
  std::atomic<int> wrong{0};
  std::vector<std::thread> others;
  const auto start = std::chrono::steady_clock::now();
  for (int c = 0; c < 50; ++c) {
    others.emplace_back([&, c] {
      RespClient client(proxy_->port(), 2s);
      for (int i = 0; i < 20; ++i) {
        const std::string key = "routing:busy:" + std::to_string(c);
        if (client.call({"SET", key, std::to_string(i)}) == "+OK\r\n") {
          ++answered;
        } else {
          ++wrong;
        }
      }
    });
  }
  for (auto& thread : others) thread.join();
  const auto busy_for = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(answered.load(), 1000);
  EXPECT_EQ(wrong.load(), 0);
  // 1000 SETs finished while BLPOP (5 s timeout) still waits.
  EXPECT_LT(busy_for, 4s);
  RespClient pusher(proxy_->port());
  EXPECT_EQ(pusher.call({"RPUSH", "routing:queue", "job"}), ":1\r\n");
  EXPECT_EQ(blocked.readReply().value_or("timeout"), "*2\r\n$13\r\nrouting:queue\r\n$3\r\njob\r\n");
  // Its timeout behaves as in Redis: nil after it expires.
  EXPECT_EQ(blocked.call({"BLPOP", "routing:queue", "0.2"}), "*-1\r\n");
  // And the same client is an ordinary client again.
  EXPECT_EQ(blocked.call({"SET", "routing:after-block", "1"}), "+OK\r\n");
}

TEST_F(Routing, PubSubDeliversAndKeepsRepliesInOrder) {
  RespClient subscriber(proxy_->port());
  subscriber.sendRaw(RespClient::encode({"SUBSCRIBE", "routing:a", "routing:b"}));
  EXPECT_EQ(subscriber.readReply().value_or(""),
            "*3\r\n$9\r\nsubscribe\r\n$9\r\nrouting:a\r\n:1\r\n");
  EXPECT_EQ(subscriber.readReply().value_or(""),
            "*3\r\n$9\r\nsubscribe\r\n$9\r\nrouting:b\r\n:2\r\n");
  RespClient publisher(proxy_->port());
  EXPECT_EQ(publisher.call({"PUBLISH", "routing:b", "hello"}), ":1\r\n");
  EXPECT_EQ(subscriber.readReply().value_or(""),
            "*3\r\n$7\r\nmessage\r\n$9\r\nrouting:b\r\n$5\r\nhello\r\n");
  // Redis's subscribed-mode rules: PING answers in pub/sub form, GET is refused.
  EXPECT_EQ(subscriber.call({"PING"}), "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
  EXPECT_EQ(subscriber.call({"GET", "x"}).rfind("-ERR Can't execute 'get'", 0), 0u);
  // Leaving pub/sub mode and reading in one pipeline keeps the order.
  subscriber.sendRaw(RespClient::encode({"UNSUBSCRIBE"}) +
                     RespClient::encode({"SET", "routing:after-pubsub", "1"}) +
                     RespClient::encode({"PING"}));
  const std::string first = subscriber.readReply().value_or("");
  const std::string second = subscriber.readReply().value_or("");
  EXPECT_NE(first.find("unsubscribe"), std::string::npos);
  EXPECT_NE(second.find("unsubscribe"), std::string::npos);
  EXPECT_NE(first.find(":1\r\n"), std::string::npos);
  EXPECT_NE(second.find(":0\r\n"), std::string::npos);
  EXPECT_EQ(subscriber.readReply().value_or(""), "+OK\r\n");
  EXPECT_EQ(subscriber.readReply().value_or(""), "+PONG\r\n");
  // UNSUBSCRIBE without subscriptions answers like Redis, without a backend.
  EXPECT_EQ(subscriber.call({"UNSUBSCRIBE", "x"}), "*3\r\n$11\r\nunsubscribe\r\n$1\r\nx\r\n:0\r\n");
}

TEST_F(Routing, ScanVisitsEveryKeyOnce) {
  RespClient client(proxy_->port());
  std::string pipeline;
  for (int i = 0; i < 10000; ++i) {
    pipeline += RespClient::encode({"SET", "scan:" + std::to_string(i), "x"});
  }
  client.sendRaw(pipeline);
  for (int i = 0; i < 10000; ++i) ASSERT_EQ(client.readReply().value_or(""), "+OK\r\n");
  // Let the replicas catch up: SCAN may start on one of them.
  ASSERT_EQ(client.call({"WAIT", "2", "2000"}), ":2\r\n");
  std::set<std::string> seen;
  std::string cursor = "0";
  int rounds = 0;
  do {
    const std::string reply = client.call({"SCAN", cursor, "MATCH", "scan:*", "COUNT", "100"});
    // *2\r\n$<n>\r\n<cursor>\r\n*<k>\r\n($..\r\nkey\r\n)*
    std::size_t at = reply.find("\r\n", 4) + 2;
    const std::size_t cursor_end = reply.find("\r\n", at);
    cursor = reply.substr(at, cursor_end - at);
    at = reply.find("\r\n", cursor_end + 2) + 2;
    while (at < reply.size()) {
      const std::size_t length_end = reply.find("\r\n", at);
      const std::size_t length = std::stoul(reply.substr(at + 1, length_end - at - 1));
      seen.insert(reply.substr(length_end + 2, length));
      at = length_end + 2 + length + 2;
    }
    ASSERT_LT(++rounds, 10000);
  } while (cursor != "0");
  EXPECT_EQ(seen.size(), 10000u);
}

TEST_F(Routing, EvalshaRoWorksOnReplicasAfterScriptLoad) {
  RespClient client(proxy_->port());
  client.call({"SET", "routing:script", "42"});
  ASSERT_EQ(client.call({"WAIT", "2", "2000"}), ":2\r\n");
  const std::string sha =
      RespClient::valueOf(client.call({"SCRIPT", "LOAD", "return redis.call('GET', KEYS[1])"}));
  ASSERT_EQ(sha.size(), 40u);
  lab_->resetStats();
  // From a connection that has not written: the writer's own reads stay on
  // the master until the replicas report its write.
  RespClient reader(proxy_->port());
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(reader.call({"EVALSHA_RO", sha, "1", "routing:script"}), "$2\r\n42\r\n");
  }
  long on_replicas = 0;
  for (std::size_t node = 0; node < lab_->nodeCount(); ++node) {
    if (node != master()) on_replicas += lab_->commandCalls(node, "evalsha_ro");
  }
  EXPECT_EQ(on_replicas, 10);
}

TEST_F(Routing, DisabledCommandsSayHowToEnableThem) {
  RespClient client(proxy_->port());
  EXPECT_EQ(client.call({"CONFIG", "SET", "maxmemory", "1"}),
            "-ERR 'config set' is disabled by redis-ha-proxy: it would change a node behind "
            "Sentinel's back. Run it against the node directly, or add \"config|set\" to "
            "routing.allow_commands\r\n");
  EXPECT_EQ(client.call({"CONFIG", "GET", "maxmemory"}).rfind("*2\r\n", 0), 0u);
  EXPECT_EQ(client.call({"MONITOR"}).rfind("-ERR 'monitor' cannot be used", 0), 0u);
}

TEST_F(Routing, ReadYourWritesWithStickiness) {
  // The time-based option alone, without the offset-based default.
  ProxyProcess sticky(lab_->dir(), lab_->proxyArgs("[routing]\nsticky_after_write_ms = 500\n"
                                                   "read_your_writes = false\n"));
  ASSERT_TRUE(sticky.waitUntilWritable()) << sticky.log();
  ASSERT_TRUE(sticky.waitForEligibleReplicas(2)) << sticky.log();
  RespClient client(sticky.port());
  lab_->resetStats();
  for (int i = 0; i < 50; ++i) {
    const std::string value = std::to_string(i);
    ASSERT_EQ(client.call({"SET", "routing:ryw", value}), "+OK\r\n");
    ASSERT_EQ(client.call({"GET", "routing:ryw"}),
              "$" + std::to_string(value.size()) + "\r\n" + value + "\r\n");
  }
  EXPECT_EQ(lab_->commandCalls(master(), "get"), 50);
  // Past the window reads go back to the replicas.
  std::this_thread::sleep_for(600ms);
  lab_->resetStats();
  client.call({"GET", "routing:ryw"});
  EXPECT_EQ(lab_->commandCalls(master(), "get"), 0);
  EXPECT_EQ(sticky.terminate(), 0);
}

/* With several connections per node, a client's pipelined requests still
 * run in the order it sent them, as on one Redis connection: each GET sees
 * the SET before it (spread over connections by load, a GET could run
 * first). The proxy's workers and connections are many; one client's are
 * one. */
TEST_F(Routing, ManyConnectionsPerNodeKeepEachClientsOrder) {
  ProxyProcess spread(lab_->dir(), lab_->proxyArgs("[proxy]\nworkers = 1\n[backend]\n"
                                                   "connections_per_node = 4\n[routing]\n"
                                                   "read_policy = \"master\"\n"));
  ASSERT_TRUE(spread.waitUntilWritable()) << spread.log();
  std::vector<std::unique_ptr<RespClient>> clients;
  for (int c = 0; c < 4; ++c) clients.push_back(std::make_unique<RespClient>(spread.port()));
  constexpr int kPairs = 2000;
  for (int c = 0; c < 4; ++c) {
    std::string pipeline;
    const std::string key = "routing:order:" + std::to_string(c);
    for (int i = 0; i < kPairs; ++i) {
      pipeline += RespClient::encode({"SET", key, std::to_string(i)});
      pipeline += RespClient::encode({"GET", key});
    }
    clients[c]->sendRaw(pipeline);
  }
  for (int c = 0; c < 4; ++c) {
    int out_of_order = 0;
    for (int i = 0; i < kPairs; ++i) {
      ASSERT_EQ(clients[c]->readReply().value_or("(none)"), "+OK\r\n");
      const std::string value = std::to_string(i);
      if (clients[c]->readReply().value_or("(none)") !=
          "$" + std::to_string(value.size()) + "\r\n" + value + "\r\n") {
        ++out_of_order;
      }
    }
    EXPECT_EQ(out_of_order, 0) << "client " << c;
  }
  EXPECT_EQ(spread.terminate(), 0);
}

TEST_F(Routing, ReplicaPolicyRefusesReadsWhenNoReplicaIsEligible) {
  ProxyProcess strict(lab_->dir(), lab_->proxyArgs("[routing]\nread_policy = \"replica\"\n"));
  ASSERT_TRUE(strict.waitUntilWritable()) << strict.log();
  ASSERT_TRUE(strict.waitForEligibleReplicas(2)) << strict.log();
  RespClient client(strict.port(), 3s);
  EXPECT_EQ(client.call({"GET", "routing:strict"}), "$-1\r\n");
  // Both replicas stop applying the replication stream: as writes go on
  // they fall behind, and reads get a clear error instead of silently
  // going to the master.
  std::vector<std::unique_ptr<RespClient>> paused;
  for (std::size_t node = 0; node < lab_->nodeCount(); ++node) {
    if (node == master()) continue;
    paused.push_back(lab_->connectNode(node));
    ASSERT_EQ(paused.back()->call({"CLIENT", "PAUSE", "4000", "WRITE"}), "+OK\r\n");
  }
  auto notEligible = [&] { return strict.countInLog("replica not eligible for reads"); };
  const std::size_t before = notEligible();
  const bool both_dropped = Lab::waitUntil(
      [&] {
        client.call({"INCR", "routing:strict"});
        return notEligible() >= before + 2;
      },
      3500ms);
  const std::string reply = both_dropped ? client.call({"GET", "routing:strict"}) : "";
  for (auto& node : paused) node->call({"CLIENT", "UNPAUSE"});
  ASSERT_TRUE(both_dropped) << strict.log();
  EXPECT_EQ(reply.rfind("-ERR no replica is eligible", 0), 0u) << reply;
  ASSERT_TRUE(strict.waitForEligibleReplicas(2)) << strict.log();
  EXPECT_EQ(strict.terminate(), 0);
}

/* Readers keep reading while a replica is killed under them: reads it had
 * in flight are sent again elsewhere, none fails. */
TEST(RoutingFailover, ReadsOnAReplicaThatDiesAreRetriedElsewhere) {
  Lab lab;
  ProxyProcess proxy(lab.dir(), lab.proxyArgs());
  ASSERT_TRUE(proxy.waitUntilWritable()) << proxy.log();
  ASSERT_TRUE(proxy.waitForEligibleReplicas(2)) << proxy.log();
  {
    RespClient writer(proxy.port());
    ASSERT_EQ(writer.call({"SET", "victim:k", "v"}), "+OK\r\n");
    ASSERT_EQ(writer.call({"WAIT", "2", "2000"}), ":2\r\n");
  }
  const std::size_t master = *lab.sentinelMaster();
  const std::size_t victim = master == 1 ? 2 : 1;
  std::atomic<bool> stop{false};
  std::atomic<long> good{0};
  std::atomic<long> bad{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 8; ++r) {
    readers.emplace_back([&] {
      RespClient client(proxy.port(), 5s);
      while (!stop.load()) {
        // Pipelined, so the dying replica has reads in flight.
        std::string pipeline;
        for (int i = 0; i < 20; ++i) pipeline += RespClient::encode({"GET", "victim:k"});
        client.sendRaw(pipeline);
        for (int i = 0; i < 20; ++i) {
          if (client.readReply().value_or("") == "$1\r\nv\r\n") {
            ++good;
          } else {
            ++bad;
          }
        }
      }
    });
  }
  std::this_thread::sleep_for(500ms);
  lab.killNode(victim);
  std::this_thread::sleep_for(1500ms);
  stop.store(true);
  for (auto& thread : readers) thread.join();
  EXPECT_EQ(bad.load(), 0) << proxy.log();
  EXPECT_GT(good.load(), 1000);
  EXPECT_TRUE(proxy.running());
}

/* Fails the master over under a subscriber, a blocked client and a client
 * inside MULTI, each on one connection to the proxy: each goes on, on the
 * new master, as if nothing had happened. */
TEST(RoutingFailover, PubSubBlockingAndTransactionsFollowTheNewMaster) {
  Lab lab;
  ProxyProcess proxy(lab.dir(), lab.proxyArgs());
  ASSERT_TRUE(proxy.waitUntilWritable()) << proxy.log();
  RespClient subscriber(proxy.port(), 15s);
  subscriber.sendRaw(RespClient::encode({"SUBSCRIBE", "news"}));
  ASSERT_EQ(subscriber.readReply().value_or(""), "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n");
  RespClient blocked(proxy.port(), 20s);
  blocked.sendRaw(RespClient::encode({"BLPOP", "jobs", "0"}));
  RespClient transaction(proxy.port(), 15s);
  ASSERT_EQ(transaction.call({"MULTI"}), "+OK\r\n");
  ASSERT_EQ(transaction.call({"INCR", "tx-counter"}), "+QUEUED\r\n");

  RespClient publisher(proxy.port(), 15s);
  ASSERT_EQ(publisher.call({"PUBLISH", "news", "before"}), ":1\r\n");
  ASSERT_EQ(subscriber.readReply().value_or(""),
            "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$6\r\nbefore\r\n");

  const std::size_t old_master = *lab.sentinelMaster();
  ASSERT_EQ(lab.sentinelFailover(), "+OK\r\n");
  ASSERT_TRUE(lab.waitForNewMaster(old_master, 30s)) << proxy.log();
  // The proxy has switched once a write through it lands on the new master.
  ASSERT_TRUE(Lab::waitUntil(
      [&] {
        return publisher.call({"SET", "probe", "1"}) == "+OK\r\n" &&
               lab.role(old_master) != "master";
      },
      15s));

  // The transaction's MULTI went to the old master, which ran nothing of
  // it: it is replayed on the new master, where EXEC runs it once.
  EXPECT_EQ(transaction.call({"EXEC"}), "*1\r\n:1\r\n");
  EXPECT_EQ(publisher.call({"GET", "tx-counter"}), "$1\r\n1\r\n");

  // The subscriber and the blocked client were moved to the new master.
  bool delivered = false;
  for (int i = 0; i < 50 && !delivered; ++i) {
    delivered = publisher.call({"PUBLISH", "news", "after"}) == ":1\r\n";
    if (!delivered) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(delivered) << proxy.log();
  EXPECT_EQ(subscriber.readReply().value_or(""),
            "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nafter\r\n");
  EXPECT_EQ(publisher.call({"RPUSH", "jobs", "j1"}), ":1\r\n");
  EXPECT_EQ(blocked.readReply().value_or("timeout"), "*2\r\n$4\r\njobs\r\n$2\r\nj1\r\n");

  // The old master rejoined as a replica: once caught up it serves reads
  // again, and the promoted node gets none.
  const std::string old_master_address = "127.0.0.1:" + std::to_string(lab.nodePort(old_master));
  EXPECT_TRUE(Lab::waitUntil(
      [&] {
        const std::string log = proxy.log();
        const auto eligible = log.rfind("replica eligible for reads address=" + old_master_address);
        const auto dropped =
            log.rfind("replica not eligible for reads address=" + old_master_address);
        return eligible != std::string::npos &&
               (dropped == std::string::npos || eligible > dropped);
      },
      15s))
      << proxy.log();
  const std::size_t new_master = *lab.sentinelMaster();
  lab.resetStats();
  // New connections that only read: the publisher wrote, so its own reads
  // would go to the master until the replicas report its writes.
  for (int i = 0; i < 30; ++i) RespClient(proxy.port()).call({"GET", "probe"});
  EXPECT_EQ(lab.commandCalls(new_master, "get"), 0);
  EXPECT_GT(lab.commandCalls(old_master, "get"), 0);
  EXPECT_TRUE(proxy.running());
}

}  // namespace
}  // namespace rhp::test
