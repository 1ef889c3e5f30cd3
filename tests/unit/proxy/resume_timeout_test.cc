#include "proxy/resume_timeout.h"

#include <gtest/gtest.h>

#include "commands/resp_array.h"

namespace rhp::proxy {
namespace {

Request blocking(std::initializer_list<std::string_view> args, std::uint16_t index, bool millis,
                 std::uint64_t timeout_ms) {
  Request request;
  request.payload = commands::respCommand(args);
  request.timeout_arg = index;
  request.timeout_millis = millis;
  request.timeout_ms = timeout_ms;
  return request;
}

TEST(ResumeTimeout, TheFirstSendingStartsTheClockAndLaterOnesKeepWhatIsLeft) {
  Request request = blocking({"BLPOP", "jobs", "10"}, 2, false, 10'000);
  resumeTimeout(request, 1'000);
  EXPECT_EQ(request.payload, commands::respCommand({"BLPOP", "jobs", "10"}));
  // Sent again after waiting on the old master and behind the fence.
  resumeTimeout(request, 5'250);
  EXPECT_EQ(request.payload, commands::respCommand({"BLPOP", "jobs", "5.750"}));
  // And again: still counted from the first sending.
  resumeTimeout(request, 7'000);
  EXPECT_EQ(request.payload, commands::respCommand({"BLPOP", "jobs", "4.000"}));
}

TEST(ResumeTimeout, MillisecondsAndTheFirstArgument) {
  Request xread = blocking({"XREAD", "BLOCK", "2000", "STREAMS", "s", "$"}, 2, true, 2'000);
  resumeTimeout(xread, 100);
  resumeTimeout(xread, 600);
  EXPECT_EQ(xread.payload, commands::respCommand({"XREAD", "BLOCK", "1500", "STREAMS", "s", "$"}));
  Request blmpop = blocking({"BLMPOP", "3", "1", "k", "LEFT"}, 1, false, 3'000);
  resumeTimeout(blmpop, 1);
  resumeTimeout(blmpop, 1'001);
  EXPECT_EQ(blmpop.payload, commands::respCommand({"BLMPOP", "2.000", "1", "k", "LEFT"}));
}

TEST(ResumeTimeout, ASpentTimeoutAsksOneMillisecondAndForEverStaysForEver) {
  Request spent = blocking({"BRPOP", "k", "1"}, 2, false, 1'000);
  resumeTimeout(spent, 1'000);
  resumeTimeout(spent, 9'000);
  EXPECT_EQ(spent.payload, commands::respCommand({"BRPOP", "k", "0.001"}));
  Request forever = blocking({"BRPOP", "k", "0"}, 2, false, 0);
  resumeTimeout(forever, 1'000);
  resumeTimeout(forever, 9'000);
  EXPECT_EQ(forever.payload, commands::respCommand({"BRPOP", "k", "0"}));
  Request plain = blocking({"GET", "k"}, 0, false, 0);
  resumeTimeout(plain, 1'000);
  resumeTimeout(plain, 9'000);
  EXPECT_EQ(plain.payload, commands::respCommand({"GET", "k"}));
}

}  // namespace
}  // namespace rhp::proxy
