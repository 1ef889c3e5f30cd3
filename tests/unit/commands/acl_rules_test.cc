#include "commands/acl_rules.h"

#include <gtest/gtest.h>

#include "config/acl_user.h"

namespace rhp::commands {
namespace {

const CommandSpec& spec(std::string_view name, std::string_view sub = {}) {
  const Resolution resolved = resolveCommand(name, sub, sub.empty() ? 1 : 2, nullptr);
  EXPECT_NE(resolved.spec, nullptr) << name << " " << sub;
  return *resolved.spec;
}

AclRules rulesOf(std::initializer_list<std::string_view> rules) {
  AclRules out;
  for (auto rule : rules) EXPECT_TRUE(out.add(rule)) << rule;
  return out;
}

/* Redis's semantics: nothing by default, rules in order, a later one
 * overriding an earlier one for what they share; a command rule covers its
 * subcommands, a subcommand rule only itself; categories as COMMAND
 * reports them per subcommand. */
TEST(AclRules, LaterRulesOverrideEarlierOnesAsInRedis) {
  EXPECT_FALSE(AclRules().allows(spec("get")));
  const AclRules reader = rulesOf({"+@read", "-@dangerous", "+ping"});
  EXPECT_TRUE(reader.allows(spec("get")));
  EXPECT_TRUE(reader.allows(spec("ping")));
  EXPECT_FALSE(reader.allows(spec("set")));
  EXPECT_FALSE(reader.allows(spec("keys")));  // @read, and @dangerous
  EXPECT_FALSE(reader.allows(spec("echo")));
  const AclRules config = rulesOf({"+@all", "-config", "+config|get"});
  EXPECT_TRUE(config.allows(spec("config", "get")));
  EXPECT_FALSE(config.allows(spec("config", "set")));
  EXPECT_TRUE(config.allows(spec("flushall")));
  const AclRules none = rulesOf({"allcommands", "nocommands", "+client|getname"});
  EXPECT_FALSE(none.allows(spec("get")));
  EXPECT_TRUE(none.allows(spec("client", "getname")));
  EXPECT_FALSE(none.allows(spec("client", "setname")));
  EXPECT_EQ(config.describe(), "resetkeys resetchannels +@all -config +config|get");
  // Keys and channels: none without ~* and &*, as for a new Redis user.
  EXPECT_EQ(config.check(spec("get")), AclDenial::Keys);
  EXPECT_EQ(config.check(spec("publish")), AclDenial::Channels);
  EXPECT_EQ(config.check(spec("config", "set")), AclDenial::Command);
  EXPECT_EQ(config.check(spec("dbsize")), AclDenial::None);
  const AclRules everything = rulesOf({"+@all", "~*", "&*"});
  EXPECT_EQ(everything.check(spec("get")), AclDenial::None);
  EXPECT_EQ(everything.check(spec("subscribe")), AclDenial::None);
  EXPECT_TRUE(everything.unrestricted());
  EXPECT_FALSE(config.unrestricted());
  EXPECT_FALSE(rulesOf({"+@all", "~*"}).unrestricted());  // no channels
  EXPECT_FALSE(rulesOf({"+@all", "-flushall", "~*", "&*"}).unrestricted());
}

TEST(AclRules, RefusesWhatRedisWouldRefuse) {
  AclRules rules;
  EXPECT_FALSE(rules.add("+@nosuchcategory"));
  EXPECT_FALSE(rules.add("+nosuchcommand"));
  EXPECT_FALSE(rules.add("+config|nosuch"));
  EXPECT_FALSE(rules.add("+select|0"));  // a first-argument rule: not evaluated here
  EXPECT_FALSE(rules.add("get"));
  EXPECT_TRUE(rules.add("+GET"));  // names are case-insensitive, as in Redis
  EXPECT_TRUE(rules.allows(spec("get")));
}

TEST(AclUser, ParsesRedisAclFileLines) {
  std::string error;
  // sha256("secret")
  const auto user = config::parseAclUser(
      "user app on #2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b ~* &* +@read",
      error);
  ASSERT_NE(user, nullptr) << error;
  EXPECT_EQ(user->name, "app");
  EXPECT_TRUE(user->accepts("secret"));
  EXPECT_FALSE(user->accepts("Secret"));
  EXPECT_FALSE(user->accepts(""));
  EXPECT_TRUE(user->rules.allows(spec("get")));
  const auto off = config::parseAclUser("user old >pw +@all", error);  // off unless "on"
  ASSERT_NE(off, nullptr) << error;
  EXPECT_FALSE(off->accepts("pw"));
  const auto open = config::parseAclUser("user open on nopass", error);
  ASSERT_NE(open, nullptr);
  EXPECT_TRUE(open->accepts("anything"));
  EXPECT_EQ(config::parseAclUser("user app on ~app:* +@all", error), nullptr);
  EXPECT_NE(error.find("key and channel patterns are enforced by Redis"), std::string::npos);
  EXPECT_EQ(config::parseAclUser("user app on #abc", error), nullptr);
  EXPECT_NE(error.find("is not a SHA-256 hash"), std::string::npos) << error;
  EXPECT_EQ(config::parseAclUser("app on", error), nullptr);
  EXPECT_EQ(config::parseAclUser("user app on +@nothing", error), nullptr);
  EXPECT_NE(error.find("'+@nothing' is not a rule the proxy knows"), std::string::npos) << error;

  const config::AclUsers users("pw", {"user app on >x +@read"});
  EXPECT_EQ(users.defaultUser()->name, "default");
  EXPECT_TRUE(users.defaultUser()->accepts("pw"));
  EXPECT_TRUE(users.defaultUser()->rules.allows(spec("flushall")));
  const config::AclUsers replaced("pw", {"user default on nopass +@read"});
  EXPECT_TRUE(replaced.defaultUser()->accepts("anything"));
  EXPECT_FALSE(replaced.defaultUser()->rules.allows(spec("set")));
}

}  // namespace
}  // namespace rhp::commands
