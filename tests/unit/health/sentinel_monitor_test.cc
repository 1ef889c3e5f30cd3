#include "health/sentinel_monitor.h"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "net/uv_handle.h"

namespace rhp::health {
namespace {

using namespace std::chrono_literals;

std::string respBulk(const std::string& text) {
  return "$" + std::to_string(text.size()) + "\r\n" + text + "\r\n";
}

std::string respArray(const std::vector<std::string>& items) {
  std::string wire = "*" + std::to_string(items.size()) + "\r\n";
  for (const auto& item : items) wire += respBulk(item);
  return wire;
}

/* A RESP server on the test's loop, on a free loopback port: `answer`
 * answers each command, SUBSCRIBE is acknowledged, and publish() pushes a
 * message to every subscribed client, as a sentinel publishes its events. */
class FakeRespServer {
 public:
  using Answer = std::function<std::string(const std::vector<std::string>& args)>;

  FakeRespServer(uv_loop_t* loop, Answer answer) : loop_(loop), answer_(std::move(answer)) {
    sockaddr_in where{};
    uv_ip4_addr("127.0.0.1", 0, &where);
    uv_tcp_init(loop, listener_.allocate());
    listener_->data = this;
    uv_tcp_bind(listener_.get(), reinterpret_cast<const sockaddr*>(&where), 0);
    uv_listen(listener_.stream(), 16, [](uv_stream_t* server, int) {
      if (server->data != nullptr) static_cast<FakeRespServer*>(server->data)->accept();
    });
    sockaddr_in bound{};
    int length = sizeof(bound);
    uv_tcp_getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&bound), &length);
    port_ = ntohs(bound.sin_port);
  }

  config::Address address() const { return {"127.0.0.1", port_}; }
  std::string port() const { return std::to_string(port_); }

  void publish(const std::string& channel, const std::string& payload) {
    for (auto& client : clients_) {
      if (client->subscribed) write(*client, respArray({"message", channel, payload}));
    }
  }

 private:
  struct Client {
    FakeRespServer* server = nullptr;
    net::UvHandle<uv_tcp_t> tcp;
    std::unique_ptr<redisReader, void (*)(redisReader*)> reader{redisReaderCreate(),
                                                                redisReaderFree};
    bool subscribed = false;
    char buffer[4096];
  };
  struct Write {
    uv_write_t request{};
    std::string bytes;
  };

  void accept() {
    auto client = std::make_unique<Client>();
    client->server = this;
    uv_tcp_init(loop_, client->tcp.allocate());
    client->tcp->data = client.get();
    if (uv_accept(listener_.stream(), client->tcp.stream()) != 0) return;
    uv_read_start(
        client->tcp.stream(),
        [](uv_handle_t* handle, size_t, uv_buf_t* buf) {
          auto* reading = static_cast<Client*>(handle->data);
          *buf = uv_buf_init(reading->buffer, sizeof(reading->buffer));
        },
        [](uv_stream_t* stream, ssize_t nread, const uv_buf_t*) {
          auto* reading = static_cast<Client*>(stream->data);
          if (reading != nullptr && nread > 0) {
            reading->server->read(*reading, static_cast<std::size_t>(nread));
          }
        });
    clients_.push_back(std::move(client));
  }

  void read(Client& client, std::size_t bytes) {
    redisReaderFeed(client.reader.get(), client.buffer, bytes);
    void* parsed = nullptr;
    while (redisReaderGetReply(client.reader.get(), &parsed) == REDIS_OK && parsed != nullptr) {
      const auto* command = static_cast<redisReply*>(parsed);
      std::vector<std::string> args;
      for (std::size_t i = 0; i < command->elements; ++i) {
        args.emplace_back(command->element[i]->str, command->element[i]->len);
      }
      freeReplyObject(parsed);
      parsed = nullptr;
      if (!args.empty() && args[0] == "SUBSCRIBE") {
        client.subscribed = true;
        for (std::size_t i = 1; i < args.size(); ++i) {
          write(client, "*3\r\n" + respBulk("subscribe") + respBulk(args[i]) + ":" +
                            std::to_string(i) + "\r\n");
        }
      } else if (!args.empty()) {
        const std::string reply = answer_(args);
        if (!reply.empty()) write(client, reply);  // empty: no answer, as from a stalled node
      }
    }
  }

  void write(Client& client, const std::string& bytes) {
    auto out = std::make_unique<Write>();
    out->bytes = bytes;
    out->request.data = out.get();
    uv_buf_t buffer = uv_buf_init(out->bytes.data(), static_cast<unsigned>(out->bytes.size()));
    if (uv_write(&out->request, client.tcp.stream(), &buffer, 1, [](uv_write_t* done, int) {
          std::unique_ptr<Write> finished(static_cast<Write*>(done->data));
        }) == 0) {
      (void)out.release();
    }
  }

  uv_loop_t* loop_;
  Answer answer_;
  net::UvHandle<uv_tcp_t> listener_;
  std::vector<std::unique_ptr<Client>> clients_;
  std::uint16_t port_ = 0;
};

/* What one fake sentinel answers about "mymaster". */
struct SentinelView {
  std::string named_port;   // SENTINEL get-master-addr-by-name
  std::string fields_port;  // ip/port in SENTINEL MASTER
  std::string epoch = "0";  // config-epoch in SENTINEL MASTER
  std::string flags = "master";
};

/* Three sentinels watching an old master and a replica (real loopback
 * servers on the test's loop, answering like redis-sentinel and
 * redis-server 7.0), and the monitor under test. */
class SentinelMonitorTest : public ::testing::Test {
 protected:
  SentinelMonitorTest() {
    if (!spdlog::get("health")) spdlog::create<spdlog::sinks::null_sink_st>("health");
    uv_loop_init(&loop_);
    old_ = node(old_role_, old_silent_);
    replica_ = node(replica_role_, replica_silent_);
    for (auto& view : views_) {
      view.named_port = view.fields_port = old_->port();
      sentinels_.push_back(std::make_unique<FakeRespServer>(&loop_, [&view](const auto& args) {
        if (args[0] == "PING") return std::string("+PONG\r\n");
        if (args[0] != "SENTINEL" || args.size() < 2) return std::string("-ERR unknown\r\n");
        if (args[1] == "get-master-addr-by-name") return respArray({"127.0.0.1", view.named_port});
        if (args[1] != "MASTER") return std::string("*0\r\n");  // SENTINELS, REPLICAS
        return respArray({"name", "mymaster", "ip", "127.0.0.1", "port", view.fields_port, "flags",
                          view.flags, "down-after-milliseconds", "1000", "config-epoch",
                          view.epoch});
      }));
      config_.sentinel.addresses.push_back(sentinels_.back()->address());
    }
    config_.sentinel.master_name = "mymaster";
    config_.sentinel.poll_interval = 100ms;
  }
  ~SentinelMonitorTest() override {
    monitor_.reset();
    sentinels_.clear();
    old_.reset();
    replica_.reset();
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
  }

  /* Answers while `silent` is false. */
  std::unique_ptr<FakeRespServer> node(const std::string& role, const bool& silent) {
    return std::make_unique<FakeRespServer>(&loop_, [this, &role, &silent](const auto& args) {
      if (args[0] == "ROLE" && &role == &replica_role_) ++replica_role_questions_;
      if (silent) return std::string();
      if (args[0] == "ROLE" && role == "master")
        return "*3\r\n" + respBulk("master") + ":0\r\n*0\r\n";
      if (args[0] == "ROLE") {
        return "*5\r\n" + respBulk("slave") + respBulk("127.0.0.1") + ":1\r\n" +
               respBulk("connected") + ":0\r\n";
      }
      if (args[0] == "INFO") return respBulk("# Replication\r\nrole:" + role + "\r\n");
      return std::string("*0\r\n");  // COMMAND
    });
  }

  /* The master writes go to now, if any. */
  std::optional<config::Address> writable() const {
    const auto topology = channel_.current();
    if (!topology || topology->status != MasterStatus::Confirmed) return std::nullopt;
    return topology->master;
  }
  std::string writableName() const { return writable() ? writable()->toString() : "none"; }

  /* Runs the loop until `done` or `limit`; notes whether writes were ever
   * allowed to the old master on the way. */
  template <class Done>
  bool runUntil(Done done, std::chrono::milliseconds limit = 3000ms) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > end) return false;
      uv_run(&loop_, UV_RUN_NOWAIT);
      if (writable() == old_->address()) old_took_writes_ = true;
      std::this_thread::sleep_for(1ms);
    }
    return true;
  }
  void runFor(std::chrono::milliseconds time) {
    runUntil([] { return false; }, time);
  }

  void startOnTheOldMaster() {
    monitor_ = std::make_unique<SentinelMonitor>(&loop_, config_, channel_);
    monitor_->start();
    ASSERT_TRUE(runUntil([&] { return writable() == old_->address(); }));
  }

  /* Sentinel 1 leads a failover of the old master to the replica, which
   * obeys REPLICAOF NO ONE: the promotion probe moves writes to it. */
  void failOverToTheReplica() {
    const std::string old_master = "127.0.0.1 " + old_->port();
    const std::string replica = "127.0.0.1:" + replica_->port() + " 127.0.0.1 " + replica_->port();
    views_[1].flags = "master,failover_in_progress";
    sentinels_[1]->publish("+new-epoch", "1");
    sentinels_[1]->publish("+try-failover", "master mymaster " + old_master);
    sentinels_[1]->publish("+selected-slave", "slave " + replica + " @ mymaster " + old_master);
    replica_role_ = "master";
    ASSERT_TRUE(runUntil([&] { return writable() == replica_->address(); }));
    old_took_writes_ = false;
  }

  /* Every sentinel names `node` at `epoch`, no failover under way. */
  void allName(const FakeRespServer& node, const std::string& epoch) {
    for (auto& view : views_) view = {node.port(), node.port(), epoch, "master"};
  }

  uv_loop_t loop_{};
  config::Config config_;
  TopologyChannel channel_;
  // The old master never stopped: a planned failover, or a paused master
  // that resumed (SIGCONT) before Sentinel converted it.
  std::string old_role_ = "master";
  std::string replica_role_ = "slave";
  bool old_silent_ = false;
  bool replica_silent_ = false;
  int replica_role_questions_ = 0;
  std::unique_ptr<FakeRespServer> old_;
  std::unique_ptr<FakeRespServer> replica_;
  SentinelView views_[3];
  std::vector<std::unique_ptr<FakeRespServer>> sentinels_;
  std::unique_ptr<SentinelMonitor> monitor_;
  bool old_took_writes_ = false;
};

/* Seen in the lab under load: a poll's two questions to one sentinel,
 * get-master-addr-by-name then SENTINEL MASTER, were answered either side
 * of that sentinel's switch to the new configuration, so its answer paired
 * the old master with the new config epoch 1. The promotion probe had
 * already moved writes to the replica at epoch 1, and "same epoch, another
 * master" took the proxy back to the old master, which said ROLE master. */
TEST_F(SentinelMonitorTest, AnAnswerPairingTheOldMasterWithTheNewEpochDoesNotMoveWritesBack) {
  startOnTheOldMaster();
  failOverToTheReplica();
  views_[0] = {old_->port(), replica_->port(), "1", "master"};
  views_[1] = {replica_->port(), old_->port(), "1", "master,failover_in_progress"};
  runFor(800ms);
  EXPECT_FALSE(old_took_writes_);
  EXPECT_EQ(writableName(), replica_->address().toString());
}

/* A second failover (of the replica promoted first) selects the old
 * master, which answers ROLE master before Sentinel has done anything: the
 * probe must not take that answer as a promotion. Once a majority of the
 * sentinels name it at the new epoch, writes follow them there. */
TEST_F(SentinelMonitorTest, TheProbeDoesNotAdoptAReplacedMasterFromItsRoleAnswer) {
  startOnTheOldMaster();
  failOverToTheReplica();
  allName(*replica_, "1");
  runFor(300ms);
  const std::string promoted = "127.0.0.1 " + replica_->port();
  const std::string old_master = "127.0.0.1:" + old_->port() + " 127.0.0.1 " + old_->port();
  views_[1].flags = "master,failover_in_progress";
  sentinels_[1]->publish("+new-epoch", "2");
  sentinels_[1]->publish("+try-failover", "master mymaster " + promoted);
  sentinels_[1]->publish("+selected-slave", "slave " + old_master + " @ mymaster " + promoted);
  runFor(800ms);
  EXPECT_FALSE(old_took_writes_);
  allName(*old_, "2");
  replica_role_ = "slave";
  EXPECT_TRUE(runUntil([&] { return writable() == old_->address(); }));
}

/* One sentinel's +switch-master back to the old master (a lagging or
 * stale report) is not followed while the others name the replica. */
TEST_F(SentinelMonitorTest, ASwitchMasterEventBackToAReplacedMasterWaitsForAMajority) {
  startOnTheOldMaster();
  failOverToTheReplica();
  allName(*replica_, "1");
  runFor(300ms);
  sentinels_[2]->publish("+switch-master",
                         "mymaster 127.0.0.1 " + replica_->port() + " 127.0.0.1 " + old_->port());
  runFor(800ms);
  EXPECT_FALSE(old_took_writes_);
  EXPECT_EQ(writableName(), replica_->address().toString());
}

/* The sentinels name the replica at a newer epoch (no failover event was
 * seen: the subscriptions were down, say) while it does not answer ROLE
 * yet: the old master takes no write while that question is out, up to
 * the command timeout (1 s). */
TEST_F(SentinelMonitorTest, TheOldMasterTakesNoWritesWhileTheNewOnesRoleIsAwaited) {
  startOnTheOldMaster();
  replica_role_ = "master";
  replica_silent_ = true;
  allName(*replica_, "1");
  ASSERT_TRUE(runUntil([&] { return replica_role_questions_ > 0; }));
  old_took_writes_ = false;
  runFor(500ms);
  EXPECT_FALSE(old_took_writes_);
}

}  // namespace
}  // namespace rhp::health
