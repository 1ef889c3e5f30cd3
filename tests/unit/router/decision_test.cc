#include "router/decision.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "router/errors.h"

namespace rhp::router {
namespace {

Decision decideFor(std::vector<std::string> args, const SessionFacts& session) {
  struct Context {
    const std::vector<std::string>* args;
  } context{&args};
  RouteRequest request;
  request.name = args[0];
  request.subcommand = args.size() > 1 ? std::string_view(args[1]) : std::string_view{};
  request.argc = args.size();
  request.args = {&context, [](const void* raw, std::size_t index) -> std::string_view {
                    return (*static_cast<const Context*>(raw)->args)[index];
                  }};
  return decide(request, session);
}

// Session states, named.
constexpr SessionFacts kPlain{};
constexpr SessionFacts kLoggedOut{false, false, {}};
constexpr SessionFacts kSubscribed{true, true, {}};
constexpr SessionFacts kResp3{true, false, {}, commands::Resp::V3};
constexpr SessionFacts kResp3Subscribed{true, true, {}, commands::Resp::V3};
constexpr SessionFacts kResp3SubscribedInMulti{
    true, true, {false, true, false, false}, commands::Resp::V3};
constexpr SessionFacts kWatching{true, false, {true, false, false, false}};
constexpr SessionFacts kInMulti{true, false, {false, true, false, false}};
constexpr SessionFacts kPoisoned{true, false, {false, true, true, false}};
constexpr SessionFacts kBrokenMulti{true, false, {false, true, false, true}};
constexpr SessionFacts kBrokenWatch{true, false, {true, false, false, true}};

constexpr Transaction kNone{};
constexpr Transaction kWatch{true, false, false, false};
constexpr Transaction kMulti{false, true, false, false};
constexpr Transaction kMultiPoisoned{false, true, true, false};
constexpr Transaction kWatchMulti{true, true, false, false};

struct Row {
  const char* what;
  SessionFacts session;
  std::vector<std::string> args;
  Step step;
  Via via = Via::Master;  // Forward only
  Transaction txn_after = {};
  std::string_view reply = {};  // Reply/LeavePubSub: its first bytes
};

void check(const Row& row) {
  SCOPED_TRACE(row.what);
  const Decision decision = decideFor(row.args, row.session);
  EXPECT_EQ(decision.step, row.step);
  if (row.step == Step::Forward) {
    EXPECT_EQ(decision.via, row.via);
  }
  EXPECT_EQ(decision.txn, row.txn_after);
  if (!row.reply.empty()) {
    EXPECT_TRUE(decision.reply.starts_with(row.reply)) << decision.reply;
  }
}

// Every command family, outside any transaction or pub/sub mode.
TEST(Decide, EveryCommandFamilyOnAPlainConnection) {
  const std::vector<Row> rows = {
      {"a write", kPlain, {"SET", "k", "v"}, Step::Forward, Via::Master},
      {"a read", kPlain, {"get", "k"}, Step::Forward, Via::Read},
      {"unknown commands go to the master", kPlain, {"NOSUCH", "x"}, Step::Forward, Via::Master},
      {"a script", kPlain, {"EVAL", "return 1", "0"}, Step::Forward, Via::Master},
      {"a read-only script", kPlain, {"EVAL_RO", "return 1", "0"}, Step::Forward, Via::Read},
      {"SCRIPT KILL must reach a busy master at once",
       kPlain,
       {"SCRIPT", "KILL"},
       Step::Forward,
       Via::Urgent},
      {"FUNCTION KILL too", kPlain, {"function", "kill"}, Step::Forward, Via::Urgent},
      {"other SCRIPT subcommands wait their turn",
       kPlain,
       {"SCRIPT", "EXISTS", "x"},
       Step::Forward,
       Via::Master},
      {"SCAN 0 starts", kPlain, {"SCAN", "0"}, Step::Forward, Via::ScanStart},
      {"SCAN 00 is cursor 0 too", kPlain, {"SCAN", "00"}, Step::Forward, Via::ScanStart},
      {"SCAN n continues", kPlain, {"SCAN", "17"}, Step::Forward, Via::Scan},
      {"HSCAN's cursor is its third argument",
       kPlain,
       {"HSCAN", "0", "17"},
       Step::Forward,
       Via::Scan},
      {"HSCAN k 0 starts", kPlain, {"HSCAN", "k", "0"}, Step::Forward, Via::ScanStart},
      {"SCRIPT LOAD is copied to replicas",
       kPlain,
       {"SCRIPT", "LOAD", "return 1"},
       Step::Forward,
       Via::Broadcast},
      {"BLPOP blocks", kPlain, {"BLPOP", "q", "0"}, Step::Forward, Via::Dedicated},
      {"XREAD BLOCK blocks",
       kPlain,
       {"XREAD", "BLOCK", "0", "STREAMS", "s", "$"},
       Step::Forward,
       Via::Dedicated},
      {"XREAD without BLOCK reads",
       kPlain,
       {"XREAD", "STREAMS", "s", "0"},
       Step::Forward,
       Via::Read},
      {"XREADGROUP without BLOCK writes",
       kPlain,
       {"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"},
       Step::Forward,
       Via::Master},
      {"WAIT blocks", kPlain, {"WAIT", "1", "0"}, Step::Forward, Via::Dedicated},
      {"SUBSCRIBE enters pub/sub", kPlain, {"SUBSCRIBE", "c"}, Step::Forward, Via::PubSub},
      {"PSUBSCRIBE enters pub/sub", kPlain, {"PSUBSCRIBE", "c*"}, Step::Forward, Via::PubSub},
      {"UNSUBSCRIBE with nothing subscribed is answered",
       kPlain,
       {"UNSUBSCRIBE", "c"},
       Step::Reply,
       {},
       kNone,
       "*3\r\n$11\r\nunsubscribe\r\n$1\r\nc\r\n:0\r\n"},
      {"PING is answered", kPlain, {"PING"}, Step::Answer},
      {"CLIENT SETNAME is answered", kPlain, {"CLIENT", "SETNAME", "x"}, Step::Answer},
      {"a refused command",
       kPlain,
       {"CONFIG", "SET", "maxmemory", "1"},
       Step::Reply,
       {},
       kNone,
       "-ERR 'config set' is disabled"},
      {"a NUL in a subcommand",
       kPlain,
       {"CONFIG", std::string("SET\0", 4), "a", "b"},
       Step::Reply,
       {},
       kNone,
       "-ERR redis-ha-proxy refuses command"},
      {"wrong arity",
       kPlain,
       {"GET"},
       Step::Reply,
       {},
       kNone,
       "-ERR wrong number of arguments for 'get'"},
      {"MULTI opens a transaction", kPlain, {"MULTI"}, Step::Forward, Via::Dedicated, kMulti},
      {"WATCH opens a transaction", kPlain, {"WATCH", "k"}, Step::Forward, Via::Dedicated, kWatch},
      {"EXEC outside a transaction: Redis's error", kPlain, {"EXEC"}, Step::Forward, Via::Master},
      {"UNWATCH outside: Redis's OK", kPlain, {"UNWATCH"}, Step::Forward, Via::Master},
  };
  for (const Row& row : rows) check(row);
}

TEST(Decide, FlagsOfTheCommandsThatNeedMore) {
  EXPECT_TRUE(decideFor({"INFO"}, kPlain).append_proxy_info);
  EXPECT_TRUE(decideFor({"info", "replication"}, kPlain).append_proxy_info);
  EXPECT_FALSE(decideFor({"GET", "k"}, kPlain).append_proxy_info);
  EXPECT_EQ(decideFor({"WAIT", "1", "0"}, kPlain).before, Before::WaitMarker);
  EXPECT_EQ(decideFor({"BLPOP", "q", "0"}, kPlain).before, Before::Nothing);
  EXPECT_TRUE(decideFor({"MULTI"}, kPlain).starts_transaction);
  EXPECT_TRUE(decideFor({"MULTI"}, kPlain).in_transaction);
  EXPECT_FALSE(decideFor({"EXEC"}, kPlain).in_transaction);
  EXPECT_FALSE(decideFor({"MULTI"}, kWatching).starts_transaction);  // WATCH opened it
}

TEST(Decide, AnUnauthenticatedClientMayOnlyLogIn) {
  const std::vector<Row> rows = {
      {"GET", kLoggedOut, {"GET", "k"}, Step::Reply, {}, kNone, "-NOAUTH"},
      {"a refused command says NOAUTH first",
       kLoggedOut,
       {"CONFIG", "SET", "a", "b"},
       Step::Reply,
       {},
       kNone,
       "-NOAUTH"},
      {"PING", kLoggedOut, {"PING"}, Step::Reply, {}, kNone, "-NOAUTH"},
      {"AUTH", kLoggedOut, {"AUTH", "pw"}, Step::Answer},
      {"HELLO", kLoggedOut, {"HELLO", "2", "AUTH", "default", "pw"}, Step::Answer},
      {"QUIT", kLoggedOut, {"QUIT"}, Step::Answer},
  };
  for (const Row& row : rows) check(row);
}

TEST(Decide, SubscribedModeForwardsAllButRefusalsResetAndQuit) {
  const std::vector<Row> rows = {
      {"SUBSCRIBE more", kSubscribed, {"SUBSCRIBE", "d"}, Step::Forward, Via::PubSub},
      {"UNSUBSCRIBE", kSubscribed, {"UNSUBSCRIBE"}, Step::Forward, Via::PubSub},
      {"PING goes to Redis, in order among the pushes",
       kSubscribed,
       {"PING"},
       Step::Forward,
       Via::PubSub},
      {"GET: Redis answers its error", kSubscribed, {"GET", "k"}, Step::Forward, Via::PubSub},
      {"QUIT", kSubscribed, {"QUIT"}, Step::Answer},
      {"a refusal ends the stream",
       kSubscribed,
       {"DEBUG", "SLEEP", "0"},
       Step::LeavePubSub,
       {},
       kNone,
       "-ERR 'debug' is disabled"},
      {"RESET ends the stream", kSubscribed, {"RESET"}, Step::LeavePubSub, {}, kNone, "+RESET\r\n"},
  };
  for (const Row& row : rows) check(row);
  EXPECT_TRUE(decideFor({"DEBUG", "SLEEP", "0"}, kSubscribed).close_after);
  EXPECT_FALSE(decideFor({"RESET"}, kSubscribed).close_after);
  EXPECT_TRUE(decideFor({"RESET"}, kSubscribed).resets_client);
  EXPECT_TRUE(decideFor({"AUTH", "secret"}, kSubscribed).blank_arguments);
  EXPECT_TRUE(decideFor({"HELLO", "3", "AUTH", "u", "secret"}, kSubscribed).blank_arguments);
  EXPECT_FALSE(decideFor({"PING"}, kSubscribed).blank_arguments);
}

/* In RESP3 Redis runs any command on a subscribed connection: only pub/sub
 * commands need the subscribed connection, and RESET ends the
 * subscriptions. */
TEST(Decide, Resp3SubscribedModeRoutesLikeAPlainConnection) {
  const std::vector<Row> rows = {
      {"SUBSCRIBE more", kResp3Subscribed, {"SUBSCRIBE", "d"}, Step::Forward, Via::PubSub},
      {"UNSUBSCRIBE", kResp3Subscribed, {"PUNSUBSCRIBE"}, Step::Forward, Via::PubSub},
      {"a read goes where reads go", kResp3Subscribed, {"GET", "k"}, Step::Forward, Via::Read},
      {"a write to the master pool", kResp3Subscribed, {"SET", "k", "v"}, Step::Forward},
      {"PING is answered here, +PONG as in RESP3", kResp3Subscribed, {"PING"}, Step::Answer},
      {"a blocking command", kResp3Subscribed, {"BLPOP", "k", "1"}, Step::Forward, Via::Dedicated},
      {"MULTI", kResp3Subscribed, {"MULTI"}, Step::Forward, Via::Dedicated, kMulti},
      {"SUBSCRIBE inside MULTI, as on a plain connection",
       kResp3SubscribedInMulti,
       {"SUBSCRIBE", "c"},
       Step::Reply,
       {},
       kMultiPoisoned},
      {"a refusal is only an error",
       kResp3Subscribed,
       {"DEBUG", "SLEEP", "0"},
       Step::Reply,
       {},
       kNone,
       "-ERR 'debug' is disabled"},
      {"RESET goes to the subscribed connection, in its turn: Redis ends the subscriptions",
       kResp3Subscribed,
       {"RESET"},
       Step::Forward,
       Via::Dedicated},
      {"HELLO 2 is refused while subscribed",
       kResp3Subscribed,
       {"HELLO", "2"},
       Step::Reply,
       {},
       kNone,
       "-ERR redis-ha-proxy does not switch"},
      {"HELLO 3 is answered", kResp3Subscribed, {"HELLO", "3"}, Step::Answer},
  };
  for (const Row& row : rows) check(row);
  EXPECT_FALSE(decideFor({"DEBUG", "SLEEP", "0"}, kResp3Subscribed).close_after);
  EXPECT_TRUE(decideFor({"RESET"}, kResp3Subscribed).resets_client);
  EXPECT_TRUE(decideFor({"RESET"}, kResp3Subscribed).resets_connection);
  EXPECT_FALSE(decideFor({"AUTH", "secret"}, kResp3Subscribed).blank_arguments);
}

/* Client-side caching: CLIENT TRACKING and everything a tracking client
 * sends use its own connection, where Redis pushes the invalidations. */
TEST(Decide, ATrackingClientUsesItsOwnConnection) {
  constexpr SessionFacts kTracking{true, false, {}, commands::Resp::V3, true};
  const std::vector<Row> rows = {
      {"RESP2 has nowhere to push to",
       kPlain,
       {"CLIENT", "TRACKING", "ON"},
       Step::Reply,
       {},
       kNone,
       "-ERR redis-ha-proxy supports CLIENT TRACKING only over RESP3"},
      {"REDIRECT names a connection behind the proxy",
       kResp3,
       {"CLIENT", "TRACKING", "on", "BCAST", "REDIRECT", "7"},
       Step::Reply,
       {},
       kNone,
       "-ERR redis-ha-proxy does not support CLIENT TRACKING REDIRECT"},
      {"ON", kResp3, {"CLIENT", "TRACKING", "on", "OPTIN"}, Step::Forward, Via::Dedicated},
      {"CACHING", kTracking, {"CLIENT", "CACHING", "yes"}, Step::Forward, Via::Dedicated},
      {"a read", kTracking, {"GET", "k"}, Step::Forward, Via::Dedicated},
      {"a write", kTracking, {"SET", "k", "v"}, Step::Forward, Via::Dedicated},
      {"SCAN", kTracking, {"SCAN", "0"}, Step::Forward, Via::Dedicated},
      {"SCRIPT KILL still jumps the queue",
       kTracking,
       {"SCRIPT", "KILL"},
       Step::Forward,
       Via::Urgent},
      {"PING is answered here", kTracking, {"PING"}, Step::Answer},
      {"RESET goes to the tracking connection: Redis ends tracking there",
       kTracking,
       {"RESET"},
       Step::Forward,
       Via::Dedicated},
      {"HELLO 2 would leave pushes with nowhere to go",
       kTracking,
       {"HELLO", "2"},
       Step::Reply,
       {},
       kNone,
       "-ERR redis-ha-proxy does not switch a tracking connection to RESP2"},
      {"HELLO 3 is answered", kTracking, {"HELLO", "3"}, Step::Answer},
      {"RESET without tracking is answered here", kResp3, {"RESET"}, Step::Answer},
  };
  for (const Row& row : rows) check(row);
  EXPECT_TRUE(decideFor({"RESET"}, kTracking).resets_connection);
  EXPECT_TRUE(decideFor({"RESET"}, kTracking).resets_client);
  EXPECT_EQ(decideFor({"CLIENT", "TRACKING", "ON"}, kResp3).tracking, TrackingChange::On);
  EXPECT_EQ(decideFor({"CLIENT", "TRACKING", "off"}, kTracking).tracking, TrackingChange::Off);
  EXPECT_EQ(decideFor({"CLIENT", "TRACKING", "maybe"}, kResp3).tracking, TrackingChange::None);
  EXPECT_EQ(decideFor({"CLIENT", "TRACKING", "maybe"}, kResp3).via, Via::Dedicated);
}

/* What redis-server 7.0 answers an UNSUBSCRIBE with nothing subscribed:
 * arrays with a nil bulk in RESP2, pushes with a RESP3 null in RESP3. */
TEST(Decide, UnsubscribingWithNothingSubscribedIsAnsweredInTheClientsProtocol) {
  EXPECT_EQ(decideFor({"UNSUBSCRIBE"}, kPlain).reply, "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n");
  EXPECT_EQ(decideFor({"UNSUBSCRIBE"}, kResp3).reply, ">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n");
  EXPECT_EQ(decideFor({"PUNSUBSCRIBE", "a"}, kResp3).reply,
            ">3\r\n$12\r\npunsubscribe\r\n$1\r\na\r\n:0\r\n");
}

TEST(Decide, ATransactionStaysOnTheClientsOwnConnection) {
  const std::vector<Row> rows = {
      {"WATCH then GET", kWatching, {"GET", "k"}, Step::Forward, Via::Dedicated, kWatch},
      {"WATCH then MULTI", kWatching, {"MULTI"}, Step::Forward, Via::Dedicated, kWatchMulti},
      {"WATCH then UNWATCH ends it", kWatching, {"UNWATCH"}, Step::Forward, Via::Dedicated, kNone},
      {"WATCH then WATCH", kWatching, {"WATCH", "j"}, Step::Forward, Via::Dedicated, kWatch},
      {"WATCH then EXEC ends it", kWatching, {"EXEC"}, Step::Forward, Via::Dedicated, kNone},
      {"WATCH then PING is answered", kWatching, {"PING"}, Step::Answer, {}, kWatch},
      {"inside MULTI, SCRIPT KILL is queued as Redis does",
       kInMulti,
       {"SCRIPT", "KILL"},
       Step::Forward,
       Via::Dedicated,
       kMulti},
      {"WATCH then SELECT is answered", kWatching, {"SELECT", "1"}, Step::Answer, {}, kWatch},
      {"a SCAN inside a transaction",
       kWatching,
       {"SCAN", "0"},
       Step::Forward,
       Via::Dedicated,
       kWatch},
      {"queued write", kInMulti, {"SET", "k", "v"}, Step::Forward, Via::Dedicated, kMulti},
      {"queued read", kInMulti, {"GET", "k"}, Step::Forward, Via::Dedicated, kMulti},
      {"queued PING goes to Redis", kInMulti, {"PING"}, Step::Forward, Via::Dedicated, kMulti},
      {"WATCH inside MULTI: Redis's error",
       kInMulti,
       {"WATCH", "k"},
       Step::Forward,
       Via::Dedicated,
       kMulti},
      {"UNWATCH inside MULTI is queued",
       kInMulti,
       {"UNWATCH"},
       Step::Forward,
       Via::Dedicated,
       kMulti},
      {"EXEC ends it", kInMulti, {"EXEC"}, Step::Forward, Via::Dedicated, kNone},
      {"DISCARD ends it", kInMulti, {"DISCARD"}, Step::Forward, Via::Dedicated, kNone},
      {"AUTH inside MULTI is answered", kInMulti, {"AUTH", "pw"}, Step::Answer, {}, kMulti},
      {"SELECT inside MULTI poisons",
       kInMulti,
       {"SELECT", "1"},
       Step::Reply,
       {},
       kMultiPoisoned,
       "-ERR SELECT inside MULTI"},
      {"a refusal inside MULTI poisons",
       kInMulti,
       {"DEBUG", "SLEEP", "0"},
       Step::Reply,
       {},
       kMultiPoisoned,
       "-ERR 'debug' is disabled"},
      {"a refusal while watching does not",
       kWatching,
       {"DEBUG", "SLEEP", "0"},
       Step::Reply,
       {},
       kWatch,
       "-ERR 'debug' is disabled"},
      {"SUBSCRIBE inside MULTI poisons",
       kInMulti,
       {"SUBSCRIBE", "c"},
       Step::Reply,
       {},
       kMultiPoisoned,
       "-ERR redis-ha-proxy cannot enter pub/sub mode"},
      {"SUBSCRIBE while watching is refused",
       kWatching,
       {"SUBSCRIBE", "c"},
       Step::Reply,
       {},
       kWatch,
       "-ERR redis-ha-proxy cannot enter pub/sub mode"},
      {"a poisoned EXEC aborts", kPoisoned, {"EXEC"}, Step::Reply, {}, kNone, "-EXECABORT"},
      {"a poisoned DISCARD goes to Redis",
       kPoisoned,
       {"DISCARD"},
       Step::Forward,
       Via::Dedicated,
       kNone},
      {"RESET ends it on the node", kInMulti, {"RESET"}, Step::Forward, Via::Dedicated, kNone},
  };
  for (const Row& row : rows) check(row);
  const Decision abort = decideFor({"EXEC"}, kPoisoned);
  EXPECT_EQ(abort.before, Before::Discard);
  EXPECT_TRUE(abort.in_transaction);
  const Decision reset = decideFor({"RESET"}, kWatching);
  EXPECT_TRUE(reset.resets_connection);
  EXPECT_TRUE(reset.resets_client);
  EXPECT_TRUE(reset.in_transaction);
}

/* The dedicated connection broke mid-transaction: no request of it goes
 * anywhere, and the client is told until it ends the transaction. */
TEST(Decide, ABrokenTransactionIsAnsweredByTheProxy) {
  const std::vector<Row> rows = {
      {"EXEC", kBrokenMulti, {"EXEC"}, Step::Reply, {}, kNone, "-EXECABORT"},
      {"a queued write",
       kBrokenMulti,
       {"SET", "k", "v"},
       Step::Reply,
       {},
       kBrokenMulti.txn,
       "-ERR transaction aborted"},
      {"DISCARD in MULTI", kBrokenMulti, {"DISCARD"}, Step::Reply, {}, kNone, "+OK"},
      {"DISCARD without MULTI",
       kBrokenWatch,
       {"DISCARD"},
       Step::Reply,
       {},
       kBrokenWatch.txn,
       "-ERR DISCARD without MULTI"},
      {"UNWATCH", kBrokenWatch, {"UNWATCH"}, Step::Reply, {}, kNone, "+OK"},
      {"MULTI after a broken WATCH",
       kBrokenWatch,
       {"MULTI"},
       Step::Reply,
       {},
       Transaction{true, true, false, true},
       "+OK"},
      {"EXEC after a broken WATCH", kBrokenWatch, {"EXEC"}, Step::Reply, {}, kNone, "-EXECABORT"},
      {"QUIT", kBrokenMulti, {"QUIT"}, Step::Answer, {}, kBrokenMulti.txn},
      {"a read",
       kBrokenWatch,
       {"GET", "k"},
       Step::Reply,
       {},
       kBrokenWatch.txn,
       "-ERR transaction aborted"},
  };
  for (const Row& row : rows) check(row);
}

TEST(Decide, NoCommandIsClassifiedByItsNameOutsideTheTable) {
  // The families the router acts on come from the table's column: a
  // command the master taught the proxy has none, whatever it is called.
  const commands::CommandRow row{"multi2", 1, {"fast"}, 0, {}, {"@fast"}};
  const LearnedCommands learned(std::vector<commands::CommandRow>{row});
  struct Context {
    std::string name = "MULTI2";
  } context;
  RouteRequest request;
  request.name = context.name;
  request.argc = 1;
  request.args = {&context, [](const void* raw, std::size_t) -> std::string_view {
                    return static_cast<const Context*>(raw)->name;
                  }};
  const Decision decision = decide(request, kPlain, {}, &learned);
  EXPECT_EQ(decision.step, Step::Forward);
  EXPECT_EQ(decision.via, Via::Master);
  EXPECT_FALSE(decision.starts_transaction);
}

}  // namespace
}  // namespace rhp::router
