#include "health/sentinel_answers.h"

#include <gtest/gtest.h>

#include "tests/support/hiredis_reply.h"

#include <memory>
#include <string>
#include <vector>

namespace rhp::health {
namespace {

using test::parseReply;

std::string bulk(const std::string& text) {
  return "$" + std::to_string(text.size()) + "\r\n" + text + "\r\n";
}

/* SENTINEL MASTER's reply as redis-sentinel 7.0 writes it, the fields the
 * proxy reads among others. */
std::string masterFields(const std::string& ip, const std::string& port, const std::string& flags,
                         const std::string& epoch) {
  const std::vector<std::string> fields = {"name",
                                           "app-cache",
                                           "ip",
                                           ip,
                                           "port",
                                           port,
                                           "runid",
                                           "abc",
                                           "flags",
                                           flags,
                                           "down-after-milliseconds",
                                           "5000",
                                           "config-epoch",
                                           epoch,
                                           "num-slaves",
                                           "2"};
  std::string wire = "*" + std::to_string(fields.size()) + "\r\n";
  for (const auto& field : fields) wire += bulk(field);
  return wire;
}

SentinelAnswer answer(const std::string& address_port, const std::string& fields_port,
                      const std::string& flags, const std::string& epoch) {
  SentinelAnswer out;
  readMasterAddress(parseReply("*2\r\n" + bulk("127.0.0.1") + bulk(address_port)).get(), out);
  readMasterFields(parseReply(masterFields("127.0.0.1", fields_port, flags, epoch)).get(), out);
  return out;
}

TEST(SentinelAnswers, ReadsTheMasterItsEpochFlagsAndDownAfter) {
  const SentinelAnswer read = answer("7001", "7001", "master", "3");
  EXPECT_TRUE(read.reachable);
  EXPECT_TRUE(read.knows_master);
  EXPECT_EQ(read.master->toString(), "127.0.0.1:7001");
  EXPECT_EQ(read.epoch, 3u);
  EXPECT_EQ(read.down_after_ms, 5000u);
  EXPECT_FALSE(read.failover_in_progress);
  EXPECT_FALSE(read.promoted_yet);
}

TEST(SentinelAnswers, AFailoverLeaderNamingTheReplicaHasPromotedIt) {
  // get-master-addr-by-name names the promoted replica; SENTINEL MASTER
  // still the old master until the failover ends.
  const SentinelAnswer leader = answer("7002", "7001", "master,failover_in_progress", "4");
  EXPECT_TRUE(leader.failover_in_progress);
  EXPECT_TRUE(leader.promoted_yet);
  const SentinelAnswer early = answer("7001", "7001", "master,failover_in_progress", "3");
  EXPECT_FALSE(early.promoted_yet);
}

TEST(SentinelAnswers, NoAnswerAndAnUnknownName) {
  SentinelAnswer silent;
  readMasterAddress(nullptr, silent);
  readMasterFields(nullptr, silent);
  EXPECT_FALSE(silent.reachable);
  EXPECT_FALSE(silent.knows_master);
  SentinelAnswer unknown;
  readMasterAddress(parseReply("*-1\r\n").get(), unknown);
  readMasterFields(parseReply("-ERR No such master with that name\r\n").get(), unknown);
  EXPECT_TRUE(unknown.reachable);
  EXPECT_FALSE(unknown.knows_master);
}

TEST(SentinelAnswers, TheNewestEpochWinsThenTheAddressMostNameWithIt) {
  const auto ours = config::makeAddress("127.0.0.1", "7001");
  std::vector<SentinelAnswer> answers = {answer("7001", "7001", "master", "3"),
                                         answer("7002", "7002", "master", "4"),
                                         answer("7003", "7003", "master", "4"),
                                         answer("7003", "7003", "master", "4"), SentinelAnswer{}};
  const PollTally tally = tallyPoll(answers, ours);
  EXPECT_EQ(tally.reachable, 4u);
  ASSERT_TRUE(tally.newest.has_value());
  EXPECT_EQ(answers[*tally.newest].master->toString(), "127.0.0.1:7003");
  EXPECT_EQ(tally.down_after_ms, 5000u);
  EXPECT_FALSE(tally.any_in_progress);
}

TEST(SentinelAnswers, AFailoverInProgressOnOursWithNothingPromoted) {
  const auto ours = config::makeAddress("127.0.0.1", "7001");
  std::vector<SentinelAnswer> answers = {answer("7001", "7001", "master,failover_in_progress", "3"),
                                         answer("7001", "7001", "master", "3")};
  EXPECT_TRUE(tallyPoll(answers, ours).in_progress_on_ours);
  // Once the leader names the promoted replica, the failover is no longer
  // "on ours with nothing promoted": the promotion probe takes over.
  answers[0] = answer("7002", "7001", "master,failover_in_progress", "4");
  const PollTally promoted = tallyPoll(answers, ours);
  EXPECT_TRUE(promoted.any_in_progress);
  EXPECT_FALSE(promoted.in_progress_on_ours);
  // On another group's master, or with no master followed yet: not ours.
  EXPECT_FALSE(tallyPoll(answers, std::nullopt).in_progress_on_ours);
}

TEST(SentinelAnswers, NoSentinelKnowsTheName) {
  std::vector<SentinelAnswer> answers(2);
  answers[0].reachable = true;
  const PollTally tally = tallyPoll(answers, std::nullopt);
  EXPECT_EQ(tally.reachable, 1u);
  EXPECT_FALSE(tally.newest.has_value());
}

/* The answer a sentinel gave when the proxy's two questions straddled its
 * switch to the new configuration: get-master-addr-by-name still named the
 * old master, SENTINEL MASTER already had the new epoch. */
TEST(ReplacedMasters, OneSentinelNamingTheOldMasterAtTheNewEpochDoesNotClearIt) {
  using Clock = ReplacedMasters::Clock;
  const auto old_master = *config::makeAddress("127.0.0.1", "7001");
  const auto replaced_at = Clock::now();
  ReplacedMasters replaced;
  replaced.add(old_master, replaced_at);
  std::vector<SentinelAnswer> answers = {answer("7001", "7002", "master", "1"),
                                         answer("7002", "7001", "master,failover_in_progress", "1"),
                                         answer("7001", "7001", "master", "0")};
  replaced.clearNamed(answers, 3, 1, replaced_at + std::chrono::milliseconds(1));
  EXPECT_TRUE(replaced.contains(old_master));
  // Two of three, but below the newest config epoch seen.
  answers[1] = answer("7001", "7001", "master", "0");
  replaced.clearNamed(answers, 3, 1, replaced_at + std::chrono::milliseconds(1));
  EXPECT_TRUE(replaced.contains(old_master));
}

TEST(ReplacedMasters, AMajorityAtTheNewestEpochAskedAfterTheSignClearsIt) {
  using Clock = ReplacedMasters::Clock;
  const auto old_master = *config::makeAddress("127.0.0.1", "7001");
  const auto replaced_at = Clock::now();
  ReplacedMasters replaced;
  replaced.add(old_master, replaced_at);
  // A failover that was aborted: the sentinels name it at its own epoch 0.
  const std::vector<SentinelAnswer> answers = {answer("7001", "7001", "master", "0"),
                                               answer("7001", "7001", "master", "0"),
                                               SentinelAnswer{}};
  // Asked before the failover started: those answers predate it.
  replaced.clearNamed(answers, 3, 0, replaced_at - std::chrono::milliseconds(1));
  EXPECT_TRUE(replaced.contains(old_master));
  // Two of five known sentinels are no majority.
  replaced.clearNamed(answers, 5, 0, replaced_at + std::chrono::milliseconds(1));
  EXPECT_TRUE(replaced.contains(old_master));
  replaced.clearNamed(answers, 3, 0, replaced_at + std::chrono::milliseconds(1));
  EXPECT_FALSE(replaced.contains(old_master));
}

}  // namespace
}  // namespace rhp::health
