#include "proxy/reply_queue.h"

#include <gtest/gtest.h>

#include <string>

namespace rhp::proxy {
namespace {

std::string take(ReplyQueue& queue) {
  return std::exchange(queue.output(), std::string());
}

TEST(ReplyQueue, RepliesLeaveInRequestOrderWhateverOrderTheyArriveIn) {
  ReplyQueue queue;
  Slot& first = queue.add();
  Slot& second = queue.add();
  Slot& third = queue.add();
  EXPECT_FALSE(queue.fill(third, "+3\r\n"));
  EXPECT_FALSE(queue.fill(second, "+2\r\n"));
  EXPECT_EQ(take(queue), "");
  EXPECT_EQ(queue.heldBytes(), 8u);
  EXPECT_EQ(queue.awaiting(), 3u);
  EXPECT_FALSE(queue.fill(first, "+1\r\n"));
  EXPECT_EQ(take(queue), "+1\r\n+2\r\n+3\r\n");
  EXPECT_EQ(queue.heldBytes(), 0u);
  EXPECT_TRUE(queue.empty());
}

/* A RESP3 push goes out where Redis wrote it: after the replies that had
 * arrived and before the ones still owed. The oldest reply owed is always
 * the first slot, so that is at once, even before answers waiting behind
 * it: a push must wait neither for a blocked command (BLPOP 0) nor behind
 * a later reply. */
TEST(ReplyQueue, APushGoesOutAtOnceBeforeEveryReplyStillOwed) {
  ReplyQueue queue;
  queue.push(">2\r\n$1\r\na\r\n$1\r\nb\r\n");
  EXPECT_EQ(take(queue), ">2\r\n$1\r\na\r\n$1\r\nb\r\n");
  Slot& blocked = queue.add();
  EXPECT_FALSE(queue.answer("+PONG\r\n", false));  // a local answer behind it
  queue.push(">1\r\n+p1\r\n");
  EXPECT_EQ(take(queue), ">1\r\n+p1\r\n");
  EXPECT_EQ(queue.heldBytes(), 7u);  // only the PONG waits
  EXPECT_FALSE(queue.fill(blocked, "*-1\r\n"));
  EXPECT_EQ(take(queue), "*-1\r\n+PONG\r\n");
  EXPECT_TRUE(queue.empty());
}

/* A backend reply held behind a local answer that waits (a wrong AUTH's
 * delay): a push Redis wrote after that reply goes out after it too. */
TEST(ReplyQueue, APushFollowsTheBackendReplyHeldBeforeIt) {
  ReplyQueue queue;
  Slot& delayed = queue.add();  // AUTH with a wrong password, answered later
  Slot& read = queue.add();
  EXPECT_FALSE(queue.fill(read, "$2\r\nv1\r\n"));
  queue.push(">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n");
  EXPECT_EQ(take(queue), "");
  queue.hold(delayed, "-WRONGPASS\r\n");
  delayed.ready = true;
  EXPECT_FALSE(queue.takeReady());
  EXPECT_EQ(take(queue), "-WRONGPASS\r\n$2\r\nv1\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n");
}

TEST(ReplyQueue, ALocalAnswerWaitsBehindEarlierRepliesAndMayCloseTheClient) {
  ReplyQueue queue;
  EXPECT_FALSE(queue.answer("+PONG\r\n", false));
  EXPECT_EQ(take(queue), "+PONG\r\n");
  Slot& pending = queue.add();
  EXPECT_FALSE(queue.answer("+OK\r\n", true));  // QUIT behind a GET
  Slot& after = queue.add();
  EXPECT_EQ(take(queue), "");
  // The GET's answer releases QUIT's, which closes: nothing after it goes.
  EXPECT_TRUE(queue.fill(pending, "$1\r\nv\r\n"));
  EXPECT_EQ(take(queue), "$1\r\nv\r\n+OK\r\n");
  EXPECT_FALSE(queue.fill(after, "+late\r\n"));
  EXPECT_EQ(take(queue), "+late\r\n");
  EXPECT_TRUE(queue.answer("-ERR Protocol error\r\n", true));  // nothing owed: closes at once
}

TEST(ReplyQueue, AStreamPassesFramesThroughOnceItIsFirstAndEndsWithItsLastReply) {
  ReplyQueue queue;
  Slot& get = queue.add();
  ReplyQueue::Stream& stream = queue.openStream();
  stream.frames_total = 1;
  EXPECT_EQ(queue.awaiting(), 1u);  // the stream slot awaits no reply
  EXPECT_FALSE(queue.onlyStreams());
  // SUBSCRIBE's reply and a message arrive before the GET's reply: held.
  ++queue.oldestStream().frames_seen;
  queue.streamFrame("*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n");
  queue.streamFrame("*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nm\r\n");
  EXPECT_EQ(take(queue), "");
  queue.fill(get, "$-1\r\n");
  EXPECT_EQ(take(queue),
            "$-1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$"
            "1\r\nm\r\n");
  EXPECT_TRUE(queue.onlyStreams());
  EXPECT_TRUE(queue.onlyOneStream());
  // First now: frames go straight out.
  queue.streamFrame("+x\r\n");
  EXPECT_EQ(take(queue), "+x\r\n");
  // UNSUBSCRIBE closed the episode; it ends when its reply frame is seen.
  queue.oldestStream().closed = true;
  queue.oldestStream().frames_total = 2;
  queue.finishStreams();
  EXPECT_TRUE(queue.streaming());
  ++queue.oldestStream().frames_seen;
  queue.streamFrame("+unsubscribed\r\n");
  queue.finishStreams();
  EXPECT_FALSE(queue.streaming());
  EXPECT_FALSE(queue.takeReady());
  EXPECT_EQ(take(queue), "+unsubscribed\r\n");
  EXPECT_TRUE(queue.empty());
}

TEST(ReplyQueue, ClearingDetachesRequestsStillOutThere) {
  ReplyQueue queue;
  Request request;
  Slot& slot = queue.add();
  slot.request = &request;
  request.reply_to.slot = &slot;
  request.reply_to.sink = reinterpret_cast<ReplySink*>(&queue);  // any non-null owner
  queue.clear();
  EXPECT_FALSE(request.reply_to.waiting());
  EXPECT_EQ(request.reply_to.slot, nullptr);
  EXPECT_TRUE(queue.empty());
}

}  // namespace
}  // namespace rhp::proxy
