#include "router/route_policy.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rhp::router {
namespace {

using namespace rhp::commands;

Route route(std::vector<std::string> args, const AllowList& allowed = {},
            const LearnedCommands* learned = nullptr) {
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
  return pickRoute(request, allowed, learned);
}

TEST(CommandTable, FindsCommandsCaseInsensitively) {
  const CommandSpec* get = findCommand("gEt");
  ASSERT_NE(get, nullptr);
  EXPECT_EQ(get->name, "get");
  EXPECT_TRUE(get->has(kReadOnly));
  EXPECT_EQ(get->first_key, 1);
  EXPECT_EQ(findCommand("nosuchcommand"), nullptr);
  EXPECT_EQ(findCommand(std::string(100, 'a')), nullptr);
}

TEST(CommandTable, ResolvesSubcommandsAsRedisDoes) {
  const Resolution config_get = resolveCommand("CONFIG", "get", 3, nullptr);
  ASSERT_NE(config_get.spec, nullptr);
  EXPECT_EQ(config_get.spec->name, "config|get");
  // A container's unknown subcommand is not the container: Redis answers
  // "unknown subcommand" and so does the proxy.
  const Resolution unknown = resolveCommand("config", "NOSUCH", 2, nullptr);
  EXPECT_EQ(unknown.spec, nullptr);
  ASSERT_NE(unknown.container, nullptr);
  EXPECT_EQ(unknown.container->name, "config");
  EXPECT_EQ(resolveCommand("config", "", 1, nullptr).spec->name, "config");  // arity's business
  EXPECT_EQ(resolveCommand("object", "encoding", 3, nullptr).spec->name, "object|encoding");
  EXPECT_TRUE(resolveCommand("object", "encoding", 3, nullptr).spec->has(kReadOnly));
  // A subcommand name is not a command a client can send.
  EXPECT_EQ(findCommand("config|get"), nullptr);
  EXPECT_EQ(resolveCommand("config|get", "x", 2, nullptr).spec, nullptr);
  // Commands without subcommands ignore the second argument.
  EXPECT_EQ(resolveCommand("get", "config", 2, nullptr).spec->name, "get");
}

Route routeAllowing(std::vector<std::string> args, std::vector<std::string> allowed) {
  return route(std::move(args), AllowList(std::move(allowed)));
}

TEST(RoutePolicy, SendsWritesScriptsAndUnknownCommandsToTheMaster) {
  EXPECT_EQ(route({"set", "k", "v"}).target, TargetKind::Master);
  EXPECT_EQ(route({"INCR", "k"}).target, TargetKind::Master);
  EXPECT_EQ(route({"EVAL", "return 1", "0"}).target, TargetKind::Master);
  EXPECT_EQ(route({"EVALSHA", "abc", "0"}).target, TargetKind::Master);
  EXPECT_EQ(route({"FCALL", "f", "0"}).target, TargetKind::Master);
  EXPECT_EQ(route({"PUBLISH", "ch", "msg"}).target, TargetKind::Master);
  EXPECT_EQ(route({"PUBSUB", "CHANNELS"}).target, TargetKind::Master);
  EXPECT_EQ(route({"SORT", "k", "STORE", "d"}).target, TargetKind::Master);
  EXPECT_EQ(route({"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"}).target,
            TargetKind::Master);
  EXPECT_EQ(route({"CONFIG", "GET", "maxmemory"}).target, TargetKind::Master);
  EXPECT_EQ(route({"CLIENT", "ID"}).target, TargetKind::Master);
  EXPECT_EQ(route({"FUNCTION", "LOAD", "code"}).target, TargetKind::Master);
  EXPECT_EQ(route({"SCRIPT", "EXISTS", "abc"}).target, TargetKind::Master);
  const Route unknown = route({"MODULECMD", "x"});
  EXPECT_EQ(unknown.target, TargetKind::Master);
  EXPECT_EQ(unknown.spec, nullptr);
}

TEST(RoutePolicy, SendsReadOnlyCommandsToTheReadPath) {
  EXPECT_EQ(route({"GET", "k"}).target, TargetKind::Read);
  EXPECT_EQ(route({"MGET", "a", "b"}).target, TargetKind::Read);
  EXPECT_EQ(route({"HGETALL", "h"}).target, TargetKind::Read);
  EXPECT_EQ(route({"ZRANGE", "z", "0", "-1"}).target, TargetKind::Read);
  EXPECT_EQ(route({"EVAL_RO", "return 1", "0"}).target, TargetKind::Read);
  EXPECT_EQ(route({"EVALSHA_RO", "abc", "0"}).target, TargetKind::Read);
  EXPECT_EQ(route({"FCALL_RO", "f", "0"}).target, TargetKind::Read);
  EXPECT_EQ(route({"SORT_RO", "k"}).target, TargetKind::Read);
  EXPECT_EQ(route({"OBJECT", "ENCODING", "k"}).target, TargetKind::Read);
  EXPECT_EQ(route({"XREAD", "COUNT", "1", "STREAMS", "s", "0"}).target, TargetKind::Read);
}

TEST(RoutePolicy, KeepsCursorsOnTheirNode) {
  const Route scan = route({"SCAN", "0"});
  EXPECT_EQ(scan.target, TargetKind::Scan);
  EXPECT_EQ(cursorIndex(scan), 1u);
  for (const char* name : {"SSCAN", "HSCAN", "ZSCAN"}) {
    const Route keyed = route({name, "key", "0"});
    EXPECT_EQ(keyed.target, TargetKind::Scan) << name;
    EXPECT_EQ(cursorIndex(keyed), 2u) << name;
  }
}

TEST(RoutePolicy, BroadcastsScriptLoadSoReplicasCanRunEvalshaRo) {
  EXPECT_EQ(route({"SCRIPT", "LOAD", "return 1"}).target, TargetKind::Broadcast);
  EXPECT_EQ(route({"script", "flush"}).target, TargetKind::Broadcast);
}

TEST(RoutePolicy, ClassifiesStatefulFamilies) {
  for (const char* name : {"MULTI", "EXEC", "DISCARD", "UNWATCH"}) {
    EXPECT_EQ(route({name}).target, TargetKind::Transaction) << name;
  }
  EXPECT_EQ(route({"WATCH", "k"}).target, TargetKind::Transaction);
  EXPECT_EQ(route({"BLPOP", "q", "0"}).target, TargetKind::Blocking);
  EXPECT_EQ(route({"BRPOPLPUSH", "a", "b", "0"}).target, TargetKind::Blocking);
  EXPECT_EQ(route({"BLMOVE", "a", "b", "LEFT", "RIGHT", "0"}).target, TargetKind::Blocking);
  EXPECT_EQ(route({"BZPOPMIN", "z", "0"}).target, TargetKind::Blocking);
  EXPECT_EQ(route({"BLMPOP", "0", "1", "q", "LEFT"}).target, TargetKind::Blocking);
  EXPECT_EQ(route({"WAIT", "1", "100"}).target, TargetKind::Blocking);
  EXPECT_EQ(route({"XREAD", "BLOCK", "0", "STREAMS", "s", "$"}).target, TargetKind::Blocking);
  EXPECT_EQ(route({"XREADGROUP", "GROUP", "g", "c", "BLOCK", "10", "STREAMS", "s", ">"}).target,
            TargetKind::Blocking);
  for (const char* name : {"SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE"}) {
    EXPECT_EQ(route({name, "ch"}).target, TargetKind::PubSub) << name;
  }
  for (const char* name : {"UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE"}) {
    EXPECT_EQ(route({name}).target, TargetKind::PubSub) << name;
  }
}

TEST(RoutePolicy, AnswersConnectionCommandsLocally) {
  EXPECT_EQ(route({"PING"}).local, LocalCommand::Ping);
  EXPECT_EQ(route({"echo", "x"}).local, LocalCommand::Echo);
  EXPECT_EQ(route({"QUIT"}).local, LocalCommand::Quit);
  EXPECT_EQ(route({"SELECT", "2"}).local, LocalCommand::Select);
  EXPECT_EQ(route({"HELLO", "3"}).local, LocalCommand::Hello);
  EXPECT_EQ(route({"AUTH", "pw"}).local, LocalCommand::Auth);
  EXPECT_EQ(route({"RESET"}).local, LocalCommand::Reset);
  EXPECT_EQ(route({"CLIENT", "SETNAME", "n"}).local, LocalCommand::ClientSetName);
  EXPECT_EQ(route({"client", "getname"}).local, LocalCommand::ClientGetName);
}

TEST(RoutePolicy, DisablesTopologyCommandsUnlessAllowed) {
  for (auto args : std::vector<std::vector<std::string>>{{"REPLICAOF", "NO", "ONE"},
                                                         {"SLAVEOF", "NO", "ONE"},
                                                         {"FAILOVER"},
                                                         {"SHUTDOWN"},
                                                         {"DEBUG", "SLEEP", "0"},
                                                         {"CLUSTER", "INFO"},
                                                         {"CLIENT", "KILL", "ID", "1"},
                                                         {"CLIENT", "PAUSE", "10"},
                                                         {"CONFIG", "SET", "maxmemory", "1"},
                                                         {"CONFIG", "REWRITE"},
                                                         {"SAVE"},
                                                         {"BGSAVE"},
                                                         {"BGREWRITEAOF"}}) {
    EXPECT_EQ(route(args).refusal, Refusal::Disabled) << args[0];
  }
  EXPECT_EQ(routeAllowing({"CONFIG", "SET", "maxmemory", "1"}, {"config|set"}).target,
            TargetKind::Master);
  EXPECT_EQ(routeAllowing({"CONFIG", "REWRITE"}, {"config|set"}).refusal, Refusal::Disabled);
  EXPECT_EQ(routeAllowing({"CONFIG", "REWRITE"}, {"CONFIG"}).target, TargetKind::Master);
  EXPECT_EQ(routeAllowing({"bgsave"}, {"BGSAVE"}).target, TargetKind::Master);
  EXPECT_TRUE(isDisabledByDefault("config"));
  EXPECT_TRUE(isDisabledByDefault("config|set"));
  EXPECT_FALSE(isDisabledByDefault("config|get"));
  EXPECT_FALSE(isDisabledByDefault("conf"));
}

TEST(RoutePolicy, NeverProxiesCommandsThatTakeOverTheConnection) {
  EXPECT_EQ(route({"MONITOR"}).refusal, Refusal::Unproxyable);
  EXPECT_EQ(route({"SYNC"}).refusal, Refusal::Unproxyable);
  EXPECT_EQ(route({"PSYNC", "?", "-1"}).refusal, Refusal::Unproxyable);
  EXPECT_EQ(route({"CLIENT", "REPLY", "OFF"}).refusal, Refusal::Unproxyable);
  // Client tracking is not a takeover: it goes to the client's own
  // connection (router::decide).
  EXPECT_EQ(route({"CLIENT", "TRACKING", "ON"}).refusal, Refusal::None);
  EXPECT_EQ(routeAllowing({"MONITOR"}, {"monitor"}).refusal, Refusal::Unproxyable);
}

TEST(RoutePolicy, RefusesWrongArityForKnownCommands) {
  EXPECT_EQ(route({"GET"}).refusal, Refusal::WrongArity);
  EXPECT_EQ(route({"GET", "a", "b"}).refusal, Refusal::WrongArity);
  EXPECT_EQ(route({"ECHO"}).refusal, Refusal::WrongArity);
  EXPECT_EQ(route({"CLIENT", "SETNAME"}).refusal, Refusal::WrongArity);
  EXPECT_EQ(route({"SET", "k"}).refusal, Refusal::WrongArity);
  EXPECT_EQ(route({"SET", "k", "v", "EX", "10"}).target, TargetKind::Master);
  // Subcommands have their own arity.
  EXPECT_EQ(route({"CONFIG", "GET"}).refusal, Refusal::WrongArity);
  EXPECT_EQ(route({"CONFIG"}).refusal, Refusal::WrongArity);
}

TEST(LearnedCommands, RoutesCommandsTheBuiltInTableLacksByTheMastersFlags) {
  std::vector<CommandRow> rows;
  rows.push_back({"GET", 2, {"readonly"}, 1, {}, {"@read"}});  // built in: not learned again
  rows.push_back({"hgetdel", -4, {"write", "fast"}, 1, {}, {"@write"}});
  rows.push_back({"json.get", -2, {"readonly"}, 1, {}, {"@read"}});
  rows.push_back({"topk",
                  -2,
                  {},
                  0,
                  {{"topk|list", -3, {"readonly"}, 2, {}, {"@read"}},
                   {"topk|add", -4, {"write", "denyoom"}, 2, {}, {"@write"}}},
                  {"@slow"}});
  rows.push_back({"bf.wait", -3, {"blocking", "readonly"}, 1, {}, {"@read", "@blocking"}});
  const LearnedCommands learned(rows);
  EXPECT_EQ(learned.size(), 6u);

  auto routeWith = [&](std::vector<std::string> args) {
    return route(std::move(args), {}, &learned);
  };

  EXPECT_EQ(routeWith({"JSON.GET", "doc"}).target, TargetKind::Read);
  EXPECT_EQ(routeWith({"HGETDEL", "h", "FIELDS", "1", "f"}).target, TargetKind::Master);
  EXPECT_EQ(routeWith({"TOPK", "LIST", "k"}).target, TargetKind::Read);
  EXPECT_EQ(routeWith({"TOPK", "ADD", "k", "x"}).target, TargetKind::Master);
  EXPECT_EQ(routeWith({"BF.WAIT", "k", "0"}).target, TargetKind::Blocking);
  EXPECT_EQ(routeWith({"json.get"}).refusal, Refusal::WrongArity);
  EXPECT_EQ(routeWith({"topk|list", "k", "x"}).spec, nullptr);
  EXPECT_EQ(routeWith({"NOTKNOWN"}).spec, nullptr);
  EXPECT_EQ(routeWith({"GET", "k"}).spec, findCommand("get"));
}

}  // namespace
}  // namespace rhp::router
