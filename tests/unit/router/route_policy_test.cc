#include "router/route_policy.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rhp::router {
namespace {

Route route(std::vector<std::string> args) {
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
  return pickRoute(request);
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

TEST(RoutePolicy, SendsReadsWritesAndUnknownCommandsToTheMaster) {
  EXPECT_EQ(route({"GET", "k"}).target, TargetKind::Master);
  EXPECT_EQ(route({"set", "k", "v"}).target, TargetKind::Master);
  EXPECT_EQ(route({"EVAL", "return 1", "0"}).target, TargetKind::Master);
  EXPECT_EQ(route({"PUBLISH", "ch", "msg"}).target, TargetKind::Master);
  EXPECT_EQ(route({"XREAD", "COUNT", "1", "STREAMS", "s", "0"}).target, TargetKind::Master);
  const Route unknown = route({"MODULECMD", "x"});
  EXPECT_EQ(unknown.target, TargetKind::Master);
  EXPECT_EQ(unknown.spec, nullptr);
}

TEST(RoutePolicy, AnswersConnectionCommandsLocally) {
  EXPECT_EQ(route({"PING"}).local, LocalCommand::Ping);
  EXPECT_EQ(route({"echo", "x"}).local, LocalCommand::Echo);
  EXPECT_EQ(route({"QUIT"}).local, LocalCommand::Quit);
  EXPECT_EQ(route({"SELECT", "2"}).local, LocalCommand::Select);
  EXPECT_EQ(route({"HELLO", "3"}).local, LocalCommand::Hello);
  EXPECT_EQ(route({"AUTH", "pw"}).local, LocalCommand::Auth);
  EXPECT_EQ(route({"CLIENT", "SETNAME", "n"}).local, LocalCommand::ClientSetName);
  EXPECT_EQ(route({"client", "getname"}).local, LocalCommand::ClientGetName);
  EXPECT_EQ(route({"CLIENT", "ID"}).target, TargetKind::Master);
}

TEST(RoutePolicy, RefusesCommandsThatWouldBreakTheTopologyOrASharedConnection) {
  EXPECT_EQ(route({"REPLICAOF", "NO", "ONE"}).refusal, Refusal::Topology);
  EXPECT_EQ(route({"SHUTDOWN"}).refusal, Refusal::Topology);
  EXPECT_EQ(route({"MONITOR"}).refusal, Refusal::Topology);
  EXPECT_EQ(route({"MULTI"}).refusal, Refusal::NeedsDedicatedConnection);
  EXPECT_EQ(route({"BLPOP", "q", "0"}).refusal, Refusal::NeedsDedicatedConnection);
  EXPECT_EQ(route({"SUBSCRIBE", "ch"}).refusal, Refusal::NeedsDedicatedConnection);
  EXPECT_EQ(route({"XREAD", "BLOCK", "0", "STREAMS", "s", "$"}).refusal,
            Refusal::NeedsDedicatedConnection);
  EXPECT_EQ(route({"CLIENT", "REPLY", "OFF"}).refusal, Refusal::NeedsDedicatedConnection);
}

TEST(RoutePolicy, RefusesWrongArityForKnownCommands) {
  EXPECT_EQ(route({"GET"}).refusal, Refusal::WrongArity);
  EXPECT_EQ(route({"GET", "a", "b"}).refusal, Refusal::WrongArity);
  EXPECT_EQ(route({"ECHO"}).refusal, Refusal::WrongArity);
  EXPECT_EQ(route({"CLIENT", "SETNAME"}).refusal, Refusal::WrongArity);
  EXPECT_EQ(route({"SET", "k"}).refusal, Refusal::WrongArity);
  EXPECT_EQ(route({"SET", "k", "v", "EX", "10"}).target, TargetKind::Master);
}

}  // namespace
}  // namespace rhp::router
