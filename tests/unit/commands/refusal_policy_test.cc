#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "commands/command_table.h"
#include "commands/refusal_policy.h"
#include "router/route_policy.h"

namespace rhp::commands {
namespace {

using router::pickRoute;
using router::Route;
using router::TargetKind;

using namespace std::string_literals;

Route route(const std::vector<std::string>& args, const AllowList& allowed = {},
            const LearnedCommands* learned = nullptr) {
  RouteRequest request;
  request.name = args[0];
  request.subcommand = args.size() > 1 ? std::string_view(args[1]) : std::string_view{};
  request.argc = args.size();
  request.args = {&args, [](const void* raw, std::size_t index) -> std::string_view {
                    return (*static_cast<const std::vector<std::string>*>(raw))[index];
                  }};
  return pickRoute(request, allowed, learned);
}

// The reproducers of the smuggling report: a NUL in a name that Redis 7.0
// would resolve, by strcasecmp, to the command before the NUL.
TEST(RefusalPolicy, RefusesNamesWithANulWhereverRedisLooksThemUp) {
  const std::vector<std::vector<std::string>> smuggled = {
      {"CONFIG", "SET\0"s, "maxmemory-samples", "9"},
      {"CLIENT", "PAUSE\0"s + "173", "10000"},
      {"CLIENT", "REPLY\0"s + "42", "SKIP"},
      {"DEBUG\0"s + "7", "SLEEP", "0"},
      {"GET\0"s, "k"},
      {"\0"s},
      {"NOSUCHCOMMAND\0"s, "x"},
      {"OBJECT", "ENCODING\0"s, "k"},
  };
  for (const auto& args : smuggled) {
    const Route r = route(args);
    EXPECT_EQ(r.target, TargetKind::Refused) << args[0] << " " << (args.size() > 1 ? args[1] : "");
    EXPECT_EQ(r.refusal, Refusal::AmbiguousName);
  }
  // Data is data: a NUL in a key or a value, or in the second argument of a
  // command without subcommands, is not a name.
  EXPECT_EQ(route({"SET", "k\0"s, "v\0"s}).target, TargetKind::Master);
  EXPECT_EQ(route({"GET", "\0"s}).target, TargetKind::Read);
}

TEST(RefusalPolicy, ANulAfterACommandTheMasterDoesNotKnowIsData) {
  // Found by the differential test (seed 802524905): "\nChO" with an
  // argument "nul\0byte" is answered "unknown command" by Redis, which
  // never looks at argv[1] when argv[0] is unknown. With the master's
  // table learned the proxy forwards it for Redis's own error; before,
  // the name could be a module's container and the NUL stays refused.
  const LearnedCommands learned(
      std::vector<CommandRow>{{"topk", -2, {"module"}, 0, {}, {"@read"}}});
  const std::vector<std::string> unknown = {"\nChO", "nul\0byte"s};
  EXPECT_EQ(route(unknown, {}, &learned).target, TargetKind::Master);
  EXPECT_EQ(route(unknown).refusal, Refusal::AmbiguousName);
  // A NUL in the name itself stays refused: strcasecmp stops at it.
  EXPECT_EQ(route({"GET\0x"s, "k"}, {}, &learned).refusal, Refusal::AmbiguousName);
  // A container's subcommand stays refused with the table learned.
  EXPECT_EQ(route({"CONFIG", "SET\0"s, "a", "b"}, {}, &learned).refusal, Refusal::AmbiguousName);
}

TEST(RefusalPolicy, ReadsOptionsAsRedisDoes) {
  // Redis takes "BLOCK\0" for BLOCK: on a shared connection the command
  // would stall every other client behind it.
  EXPECT_EQ(route({"XREAD", "BLOCK\0"s, "0", "STREAMS", "s", "$"}).target, TargetKind::Blocking);
  EXPECT_EQ(route({"XREADGROUP", "GROUP", "g", "c", "block\0x"s, "0", "STREAMS", "s", ">"}).target,
            TargetKind::Blocking);
  EXPECT_EQ(route({"XREAD", "COUNT", "1", "STREAMS\0"s, "block", "0"}).target, TargetKind::Read);
  // Option values are not keywords: a group or consumer named "streams".
  EXPECT_EQ(
      route({"XREADGROUP", "GROUP", "streams", "c", "BLOCK", "0", "STREAMS", "s", ">"}).target,
      TargetKind::Blocking);
  EXPECT_EQ(
      route({"XREADGROUP", "GROUP", "g", "STREAMS", "BLOCK", "0", "STREAMS", "s", ">"}).target,
      TargetKind::Blocking);
  EXPECT_EQ(route({"XREAD", "COUNT", "streams", "BLOCK", "0", "STREAMS", "s", "$"}).target,
            TargetKind::Blocking);
  EXPECT_EQ(
      route({"XREADGROUP", "GROUP", "g", "c", "NOACK", "BLOCK", "0", "STREAMS", "s", ">"}).target,
      TargetKind::Blocking);
}

TEST(RefusalPolicy, AnswersUnknownSubcommandsWithRedissError) {
  const std::vector<std::string> args = {"CONFIG", "nosuch"};  // detail views into it
  const Route r = route(args);
  EXPECT_EQ(r.refusal, Refusal::UnknownSubcommand);
  EXPECT_EQ(r.detail, "nosuch");
  ASSERT_NE(r.spec, nullptr);
  EXPECT_EQ(r.spec->name, "config");
  EXPECT_EQ(route({"CLIENT", "NO-TOUCH", "ON"}).refusal, Refusal::UnknownSubcommand);
}

// Everything Redis itself classifies as @admin or @dangerous is refused,
// except the listed application commands: checked over the whole table so
// a regenerated table cannot slip a command through.
TEST(RefusalPolicy, DerivesTheRefusalsFromRedissCategories) {
  const std::vector<std::string> exceptions = {
      "info", "config|get", "keys", "sort", "sort_ro", "flushdb", "flushall", "swapdb", "lastsave"};
  std::size_t refused = 0;
  for (const CommandSpec& spec : builtinCommands()) {
    const bool admin_or_dangerous = spec.inCategory(kCatAdmin | kCatDangerous) || spec.has(kAdmin);
    if (!admin_or_dangerous) continue;
    std::vector<std::string> args;
    const std::string name(spec.name);
    const auto bar = name.find('|');
    args.push_back(name.substr(0, bar));
    if (bar != std::string::npos) args.push_back(name.substr(bar + 1));
    // Enough arguments for any arity; CONFIG GET's is a harmless pattern.
    while (args.size() < 8) args.push_back("maxmemory");
    if (spec.arity > 0) args.resize(static_cast<std::size_t>(spec.arity));
    const Route r = route(args);
    const bool excepted = std::find(exceptions.begin(), exceptions.end(), name) != exceptions.end();
    if (excepted) {
      EXPECT_NE(r.target, TargetKind::Refused) << name;
    } else {
      EXPECT_EQ(r.target, TargetKind::Refused) << name;
      ++refused;
    }
  }
  EXPECT_GT(refused, 60u);  // Redis 7.0.15 marks 73 rows; 9 are excepted
}

TEST(RefusalPolicy, RefusesWhatTheHandListMissed) {
  EXPECT_EQ(route({"MIGRATE", "10.0.0.1", "6379", "k", "0", "1000"}).refusal, Refusal::Disabled);
  EXPECT_EQ(route({"RESTORE", "k", "0", "payload"}).refusal, Refusal::Disabled);
  EXPECT_EQ(route({"SLOWLOG", "GET"}).refusal, Refusal::Disabled);
  EXPECT_EQ(route({"CLIENT", "LIST"}).refusal, Refusal::Disabled);
  EXPECT_EQ(route({"LATENCY", "RESET"}).refusal, Refusal::Disabled);
  EXPECT_EQ(route({"ROLE"}).refusal, Refusal::Disabled);
  EXPECT_EQ(route({"REPLCONF", "ACK", "0"}).refusal, Refusal::Unproxyable);
  // CLIENT CACHING goes to a tracking client's own connection.
  EXPECT_EQ(route({"CLIENT", "CACHING", "YES"}).refusal, Refusal::None);
  EXPECT_EQ(route({"CLIENT", "NO-EVICT", "ON"}).refusal, Refusal::Unproxyable);
  EXPECT_EQ(route({"READONLY"}).refusal, Refusal::Disabled);
  EXPECT_EQ(route({"CLUSTER", "INFO"}).refusal, Refusal::Disabled);
  for (const char* sub : {"SETUSER", "DELUSER", "GETUSER"}) {
    EXPECT_EQ(route({"ACL", sub, "default"}).refusal, Refusal::Credentials) << sub;
  }
  EXPECT_EQ(route({"ACL", "LOAD"}).refusal, Refusal::Credentials);
  EXPECT_EQ(route({"ACL", "LIST"}).refusal, Refusal::Credentials);
  // Not admin in Redis either: the client's own view, which the proxy
  // answers (the client's user, not the proxy's backend user).
  EXPECT_EQ(route({"ACL", "WHOAMI"}).target, TargetKind::Local);
  EXPECT_EQ(route({"ACL", "CAT"}).target, TargetKind::Master);
}

TEST(RefusalPolicy, KeepsSecretParametersOutOfConfigGetAndSet) {
  for (const char* pattern : {"*pass*", "*", "requirepass", "REQUIREPASS", "masterauth", "master*",
                              "r?quirepass", "[r]equirepass", "tls-*-pass"}) {
    const Route r = route({"CONFIG", "GET", pattern});
    EXPECT_EQ(r.refusal, Refusal::Credentials) << pattern;
    EXPECT_FALSE(r.detail.empty());  // a static name, not a view into the request
  }
  // Several patterns: any one that matches a secret refuses the request.
  EXPECT_EQ(route({"CONFIG", "GET", "maxmemory", "requirepass"}).refusal, Refusal::Credentials);
  EXPECT_EQ(route({"CONFIG", "GET", "maxmemory*"}).target, TargetKind::Master);
  EXPECT_EQ(route({"CONFIG", "GET", "maxmemory", "save"}).target, TargetKind::Master);
  EXPECT_EQ(route({"CONFIG", "GET", "requirepass\0"s}).refusal, Refusal::AmbiguousName);
  // Allowing CONFIG SET does not allow changing credentials.
  const AllowList config_set({"config|set"});
  EXPECT_EQ(route({"CONFIG", "SET", "maxmemory", "1"}, config_set).target, TargetKind::Master);
  EXPECT_EQ(route({"CONFIG", "SET", "maxmemory", "1", "requirepass", "x"}, config_set).refusal,
            Refusal::Credentials);
  EXPECT_EQ(route({"CONFIG", "SET", "MasterAuth", "x"}, config_set).refusal, Refusal::Credentials);
  EXPECT_EQ(route({"CONFIG", "SET", "masterauth\0"s, "x"}, config_set).refusal,
            Refusal::AmbiguousName);
  // ... nor does allowing ACL.
  EXPECT_EQ(route({"ACL", "SETUSER", "u"}, AllowList({"acl"})).refusal, Refusal::Credentials);
  EXPECT_TRUE(isNeverAllowed("acl|setuser"));
  EXPECT_FALSE(isNeverAllowed("acl|log"));
  EXPECT_TRUE(isDisabledByDefault("acl|log"));
  EXPECT_TRUE(isDisabledByDefault("migrate"));
  EXPECT_FALSE(isDisabledByDefault("info"));
}

// The README's backend ACL user grants exactly the exceptions (plus ROLE,
// which the proxy's own monitor sends): the two lists cannot drift apart.
TEST(RefusalPolicy, TheReadmesAclLineGrantsTheExceptions) {
  std::ifstream readme(std::string(RHP_SOURCE_DIR) + "/README.md");
  std::string line;
  while (std::getline(readme, line) && !line.starts_with("user redis-ha-proxy ")) {
  }
  ASSERT_TRUE(line.starts_with("user redis-ha-proxy ")) << "no ACL line in README.md";
  std::set<std::string> granted;
  std::istringstream words(line);
  for (std::string word; words >> word;) {
    if (word.starts_with("+") && word != "+@all" && word != "+role") granted.insert(word.substr(1));
  }
  std::set<std::string> exceptions;
  for (auto name : applicationExceptions()) exceptions.emplace(name);
  EXPECT_EQ(granted, exceptions);
}

TEST(RefusalPolicy, AppliesTheSameRulesToLearnedCommands) {
  std::vector<CommandRow> rows;
  rows.push_back({"client",
                  -2,
                  {},
                  0,
                  {{"client|no-touch", 3, {"noscript"}, 0, {}, {"@slow", "@connection"}},
                   {"client|id", 2, {"noscript"}, 0, {}, {"@slow", "@connection"}}},
                  {"@slow"}});
  rows.push_back({"module.admin", -1, {"admin"}, 0, {}, {}});
  rows.push_back({"newdanger", -1, {"write"}, 0, {}, {"@write", "@dangerous"}});
  rows.push_back({"json.set", -4, {"write"}, 1, {}, {"@write"}});
  const LearnedCommands learned(rows);
  EXPECT_EQ(learned.size(), 4u);  // client|id is built in
  EXPECT_EQ(route({"CLIENT", "NO-TOUCH", "ON"}, {}, &learned).refusal, Refusal::Unproxyable);
  EXPECT_EQ(route({"MODULE.ADMIN"}, {}, &learned).refusal, Refusal::Disabled);
  EXPECT_EQ(route({"NEWDANGER"}, {}, &learned).refusal, Refusal::Disabled);
  EXPECT_EQ(route({"JSON.SET", "k", "$", "1"}, {}, &learned).target, TargetKind::Master);
  EXPECT_EQ(route({"JSON.SET\0"s, "k", "$", "1"}, {}, &learned).refusal, Refusal::AmbiguousName);
}

}  // namespace
}  // namespace rhp::commands
