#include "proxy/transaction_replay.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "commands/resp_array.h"

namespace rhp::proxy {
namespace {

using commands::Family;

Request request(std::uint64_t txn, Family family, std::initializer_list<std::string_view> args,
                std::uint32_t db = 0) {
  Request out;
  out.txn = txn;
  out.family = family;
  out.payload = commands::respCommand(args);
  out.db = db;
  return out;
}

std::vector<std::string> payloads(const std::vector<RequestPtr>& requests) {
  std::vector<std::string> out;
  for (const auto& r : requests) out.push_back(r->payload);
  return out;
}

TEST(TransactionReplay, AMultiWhoseExecWasHeldIsReplayedWhole) {
  TransactionReplay replay;
  replay.noteSent(request(7, Family::Multi, {"MULTI"}));
  replay.noteSent(request(7, Family::None, {"SET", "k", "v"}, 3));
  replay.noteSent(request(7, Family::None, {"INCR", "n"}, 3));
  auto restored = replay.onLost(0);
  ASSERT_TRUE(restored.has_value());
  EXPECT_EQ(payloads(*restored), (std::vector<std::string>{commands::respCommand({"MULTI"}),
                                                           commands::respCommand({"SET", "k", "v"}),
                                                           commands::respCommand({"INCR", "n"})}));
  for (const auto& r : *restored) {
    EXPECT_EQ(r->txn, 7u);
    EXPECT_FALSE(r->reply_to.waiting()) << "the client has these replies already";
  }
  EXPECT_EQ((*restored)[1]->db, 3u);
  // Sent again, and lost again: restored again, once.
  for (const auto& r : *restored) replay.noteSent(*r);
  auto again = replay.onLost(0);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->size(), 3u);
  // No EXEC is answered nil: there was no WATCH.
  for (const auto& r : *again) replay.noteSent(*r);
  EXPECT_FALSE(replay.answersNil(request(7, Family::Exec, {"EXEC"})));
}

TEST(TransactionReplay, ATransactionWithALostWatchGetsANilExec) {
  TransactionReplay replay;
  replay.noteSent(request(9, Family::Watch, {"WATCH", "k"}));
  replay.noteSent(request(9, Family::None, {"GET", "k"}));
  replay.noteSent(request(9, Family::Multi, {"MULTI"}));
  replay.noteSent(request(9, Family::None, {"SET", "k", "v"}));
  auto restored = replay.onLost(0);
  ASSERT_TRUE(restored.has_value());
  // Only the block is restored, so what the client queues next is queued.
  EXPECT_EQ(payloads(*restored), std::vector<std::string>{commands::respCommand({"MULTI"})});
  replay.noteSent(*(*restored)[0]);
  replay.noteSent(request(9, Family::None, {"SET", "k2", "v"}));
  const Request exec = request(9, Family::Exec, {"EXEC"});
  EXPECT_TRUE(replay.answersNil(exec));
  const RequestPtr discard = TransactionReplay::discardFor(exec);
  EXPECT_EQ(discard->payload, commands::respCommand({"DISCARD"}));
  EXPECT_EQ(discard->txn, 9u);
  replay.noteSent(*discard);
  // The next transaction starts clean.
  EXPECT_FALSE(replay.answersNil(request(10, Family::Exec, {"EXEC"})));
}

TEST(TransactionReplay, AWatchLostBeforeMultiMakesTheLaterExecNil) {
  TransactionReplay replay;
  replay.noteSent(request(4, Family::Watch, {"WATCH", "k"}));
  auto restored = replay.onLost(0);
  ASSERT_TRUE(restored.has_value());
  EXPECT_TRUE(restored->empty());
  // EXEC without MULTI is Redis's own error: it goes as it is.
  EXPECT_FALSE(replay.answersNil(request(4, Family::Exec, {"EXEC"})));
  replay.noteSent(request(4, Family::Multi, {"MULTI"}));
  EXPECT_TRUE(replay.answersNil(request(4, Family::Exec, {"EXEC"})));
}

TEST(TransactionReplay, NothingIsReplayedWithRequestsInFlightOrAfterExec) {
  TransactionReplay replay;
  replay.noteSent(request(5, Family::Multi, {"MULTI"}));
  replay.noteSent(request(5, Family::None, {"SET", "k", "v"}));
  EXPECT_FALSE(replay.onLost(1).has_value()) << "a reply was lost: abort";

  TransactionReplay executed;
  executed.noteSent(request(6, Family::Multi, {"MULTI"}));
  executed.noteSent(request(6, Family::Exec, {"EXEC"}));
  EXPECT_FALSE(executed.onLost(0).has_value()) << "EXEC's outcome is the old master's";

  TransactionReplay reset;
  reset.noteSent(request(8, Family::Multi, {"MULTI"}));
  Request reset_request = request(8, Family::Reset, {"RESET"});
  reset_request.resets_connection = true;
  reset.noteSent(reset_request);
  EXPECT_FALSE(reset.onLost(0).has_value());

  TransactionReplay none;
  EXPECT_FALSE(none.onLost(0).has_value()) << "no transaction: the lane's own rules";
}

/* Between WATCH and MULTI commands run at once: replaying them would apply
 * them twice (found by review: WATCH, INCR, UNWATCH, then a failover). */
TEST(TransactionReplay, CommandsBeforeMultiRanAndAreNeverReplayed) {
  TransactionReplay replay;
  replay.noteSent(request(3, Family::Watch, {"WATCH", "k"}));
  replay.noteSent(request(3, Family::None, {"INCR", "x"}));
  replay.noteSent(request(3, Family::Unwatch, {"UNWATCH"}));
  EXPECT_FALSE(replay.onLost(0).has_value()) << "UNWATCH ended it";

  TransactionReplay multi;
  multi.noteSent(request(4, Family::Watch, {"WATCH", "k"}));
  multi.noteSent(request(4, Family::None, {"INCR", "x"}));
  auto restored = multi.onLost(0);
  ASSERT_TRUE(restored.has_value());
  EXPECT_TRUE(restored->empty()) << "INCR ran on the old master";
}

/* Redis refused a queued command, so its EXEC would be -EXECABORT: a replay
 * could succeed instead, so the transaction is aborted, not replayed. */
TEST(TransactionReplay, ABlockRedisMarkedDirtyIsNotReplayed) {
  TransactionReplay replay;
  replay.noteSent(request(6, Family::Multi, {"MULTI"}));
  replay.noteSent(request(6, Family::None, {"SET", "k", "v"}));
  replay.noteQueueError(6);
  EXPECT_FALSE(replay.onLost(0).has_value());
  // An error before MULTI (a command that ran) does not dirty the block.
  TransactionReplay before;
  before.noteSent(request(7, Family::Watch, {"WATCH", "k"}));
  before.noteQueueError(7);
  before.noteSent(request(7, Family::Multi, {"MULTI"}));
  EXPECT_TRUE(before.onLost(0).has_value());
}

}  // namespace
}  // namespace rhp::proxy
