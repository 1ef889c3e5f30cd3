#include "proxy/pubsub_tracker.h"

#include <gtest/gtest.h>

namespace rhp::proxy {
namespace {

TEST(PubSubTracker, CountsOneReplyFramePerChannel) {
  PubSubTracker tracker;
  EXPECT_FALSE(tracker.subscribed());
  EXPECT_EQ(tracker.apply("subscribe", {"a", "b"}), 2u);
  EXPECT_TRUE(tracker.subscribed());
  EXPECT_EQ(tracker.apply("psubscribe", {"n*"}), 1u);
  EXPECT_EQ(tracker.apply("ping", {}), 1u);
  EXPECT_EQ(tracker.apply("unsubscribe", {"a"}), 1u);
  EXPECT_TRUE(tracker.subscribed());
  // A bare UNSUBSCRIBE confirms every channel left (b), not the patterns.
  EXPECT_EQ(tracker.apply("unsubscribe", {}), 1u);
  EXPECT_TRUE(tracker.subscribed());
  EXPECT_EQ(tracker.apply("punsubscribe", {}), 1u);
  EXPECT_FALSE(tracker.subscribed());
  // With nothing subscribed Redis still answers once.
  EXPECT_EQ(tracker.apply("unsubscribe", {}), 1u);
}

TEST(PubSubTracker, ResetDropsEverySubscription) {
  PubSubTracker tracker;
  tracker.apply("subscribe", {"a", "b", "c"});
  tracker.apply("ssubscribe", {"s"});
  EXPECT_EQ(tracker.apply("unsubscribe", {}), 3u);
  EXPECT_TRUE(tracker.subscribed());  // the shard channel is left
  EXPECT_EQ(tracker.apply("reset", {}), 1u);
  EXPECT_FALSE(tracker.subscribed());
}

TEST(PubSubTracker, ResubscribesToEverythingItFollows) {
  PubSubTracker tracker;
  tracker.apply("subscribe", {"news", "alerts"});
  tracker.apply("psubscribe", {"log.*"});
  tracker.apply("subscribe", {"news"});  // twice is still once
  std::size_t frames = 0;
  const std::string commands = tracker.resubscribeCommands(frames);
  EXPECT_EQ(frames, 3u);
  EXPECT_EQ(commands,
            "*3\r\n$9\r\nSUBSCRIBE\r\n$6\r\nalerts\r\n$4\r\nnews\r\n"
            "*2\r\n$10\r\nPSUBSCRIBE\r\n$5\r\nlog.*\r\n");
}

TEST(PubSubTracker, TellsMessagesFromReplies) {
  EXPECT_TRUE(PubSubTracker::isMessage("*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nx\r\n"));
  EXPECT_TRUE(
      PubSubTracker::isMessage("*4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$1\r\na\r\n$1\r\nx\r\n"));
  EXPECT_TRUE(PubSubTracker::isMessage("*3\r\n$8\r\nsmessage\r\n$1\r\na\r\n$1\r\nx\r\n"));
  EXPECT_FALSE(PubSubTracker::isMessage("*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"));
  EXPECT_FALSE(PubSubTracker::isMessage("*2\r\n$4\r\npong\r\n$0\r\n\r\n"));
}

/* RESP3 sends messages and confirmations alike as pushes; client tracking
 * adds invalidation pushes, which confirm nothing. */
TEST(PubSubTracker, TellsResp3PushesApart) {
  EXPECT_TRUE(PubSubTracker::isMessage(">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nx\r\n"));
  EXPECT_TRUE(
      PubSubTracker::isMessage(">4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$1\r\na\r\n$1\r\nx\r\n"));
  EXPECT_FALSE(PubSubTracker::isConfirmation(">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nx\r\n"));
  EXPECT_FALSE(PubSubTracker::isConfirmation(">2\r\n$10\r\ninvalidate\r\n_\r\n"));
  EXPECT_TRUE(PubSubTracker::isConfirmation(">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"));
  EXPECT_TRUE(PubSubTracker::isConfirmation(">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n"));
  EXPECT_TRUE(PubSubTracker::isConfirmation(">3\r\n$12\r\nsunsubscribe\r\n$1\r\na\r\n:0\r\n"));
  // RESP2: whatever is not a message answers a request.
  EXPECT_TRUE(PubSubTracker::isConfirmation("*2\r\n$4\r\npong\r\n$0\r\n\r\n"));
  EXPECT_FALSE(PubSubTracker::isConfirmation("*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nx\r\n"));
}

}  // namespace
}  // namespace rhp::proxy
