#include "proxy/local_commands.h"

#include <gtest/gtest.h>

#include "proxy/version.h"
#include "router/errors.h"

namespace rhp::proxy {
namespace {

LocalAnswer answer(router::LocalCommand command, std::vector<std::string> args, ClientState& state,
                   const config::Config::Proxy& settings = {}) {
  commands::ArgAccess access{&args, [](const void* raw, std::size_t index) -> std::string_view {
                               return (*static_cast<const std::vector<std::string>*>(raw))[index];
                             }};
  const config::AclUsers users(settings.password, settings.users);
  if (state.user == nullptr) state.reset(users);  // as a new connection starts
  return answerLocally(command, access, args.size(), state, settings, users);
}

TEST(LocalCommands, AnswersPingAndEcho) {
  ClientState state;
  EXPECT_EQ(answer(router::LocalCommand::Ping, {"PING"}, state).reply, "+PONG\r\n");
  EXPECT_EQ(answer(router::LocalCommand::Ping, {"PING", "hi"}, state).reply, "$2\r\nhi\r\n");
  EXPECT_EQ(answer(router::LocalCommand::Echo, {"ECHO", ""}, state).reply, "$0\r\n\r\n");
}

TEST(LocalCommands, SelectKeepsTheDatabaseWithinRange) {
  ClientState state;
  EXPECT_EQ(answer(router::LocalCommand::Select, {"SELECT", "15"}, state).reply, "+OK\r\n");
  EXPECT_EQ(state.db, 15u);
  EXPECT_EQ(answer(router::LocalCommand::Select, {"SELECT", "16"}, state).reply,
            errors::kInvalidDbIndex);
  EXPECT_EQ(answer(router::LocalCommand::Select, {"SELECT", "x"}, state).reply,
            errors::kNotAnInteger);
  EXPECT_EQ(state.db, 15u);
}

/* redis-server 7.0.15's HELLO reply, captured from a real server, with the
 * proxy's version and the client's id in place of Redis's. */
std::string redisHello(char header, int proto, std::uint64_t id) {
  const std::string version = kVersion;
  return std::string(1, header) + (header == '%' ? "7" : "14") +
         "\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$" + std::to_string(version.size()) +
         "\r\n" + version + "\r\n$5\r\nproto\r\n:" + std::to_string(proto) +
         "\r\n$2\r\nid\r\n:" + std::to_string(id) +
         "\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*"
         "0\r\n";
}

TEST(LocalCommands, HelloSwitchesProtocolsAsRedisDoes) {
  ClientState state;
  state.id = 42;
  EXPECT_EQ(answer(router::LocalCommand::Hello, {"HELLO", "3"}, state).reply,
            redisHello('%', 3, 42));
  EXPECT_EQ(state.resp, commands::Resp::V3);
  // Without a version HELLO reports the protocol in use.
  EXPECT_EQ(answer(router::LocalCommand::Hello, {"HELLO"}, state).reply, redisHello('%', 3, 42));
  EXPECT_EQ(answer(router::LocalCommand::ClientGetName, {"CLIENT", "GETNAME"}, state).reply,
            "_\r\n");
  // Refused requests change nothing.
  EXPECT_EQ(answer(router::LocalCommand::Hello, {"HELLO", "4"}, state).reply, errors::kNoProto);
  EXPECT_EQ(answer(router::LocalCommand::Hello, {"HELLO", "1"}, state).reply, errors::kNoProto);
  EXPECT_EQ(answer(router::LocalCommand::Hello, {"HELLO", "2", "SETNAME", "x", "y"}, state).reply,
            "-ERR Syntax error in HELLO option 'y'\r\n");
  EXPECT_EQ(state.resp, commands::Resp::V3);
  EXPECT_EQ(state.name, "");
  const auto hello2 = answer(router::LocalCommand::Hello, {"HELLO", "2", "SETNAME", "app"}, state);
  EXPECT_EQ(hello2.reply, redisHello('*', 2, 42));
  EXPECT_EQ(state.resp, commands::Resp::V2);
  EXPECT_EQ(state.name, "app");
  answer(router::LocalCommand::Hello, {"HELLO", "3"}, state);
  EXPECT_EQ(answer(router::LocalCommand::Reset, {"RESET"}, state).reply, "+RESET\r\n");
  EXPECT_EQ(state.resp, commands::Resp::V2);
}

TEST(LocalCommands, HelloWithAWrongPasswordKeepsTheProtocol) {
  config::Config::Proxy settings;
  settings.password = "pw";
  ClientState state;
  state.reset(config::AclUsers(settings.password, settings.users));
  EXPECT_EQ(
      answer(router::LocalCommand::Hello, {"HELLO", "3", "AUTH", "default", "no"}, state, settings)
          .reply,
      errors::kWrongPass);
  EXPECT_EQ(state.resp, commands::Resp::V2);
  EXPECT_EQ(answer(router::LocalCommand::Hello, {"HELLO", "3"}, state, settings)
                .reply.rfind("-NOAUTH", 0),
            0u);
  EXPECT_EQ(state.resp, commands::Resp::V2);
  EXPECT_EQ(
      answer(router::LocalCommand::Hello, {"HELLO", "3", "AUTH", "default", "pw"}, state, settings)
          .reply,
      redisHello('%', 3, 0));
  EXPECT_EQ(state.resp, commands::Resp::V3);
}

/* redis-server 7.0 logs in as it meets AUTH: a bad SETNAME after a right
 * AUTH fails the HELLO with the client logged in (what the lab's Redis
 * does: PassthroughReview.AFailedHelloAuthLogsInAsRedisDoes). */
TEST(LocalCommands, HelloWithABadNameAfterItsAuthIsLoggedInAsInRedis) {
  config::Config::Proxy settings;
  settings.password = "pw";
  ClientState state;
  state.reset(config::AclUsers(settings.password, settings.users));
  EXPECT_EQ(answer(router::LocalCommand::Hello,
                   {"HELLO", "3", "AUTH", "default", "pw", "SETNAME", "a b"}, state, settings)
                .reply,
            "-ERR Client names cannot contain spaces, newlines or special characters.\r\n");
  EXPECT_TRUE(state.authenticated);
  EXPECT_EQ(state.resp, commands::Resp::V2);
}

TEST(LocalCommands, ClientNameRoundTrips) {
  ClientState state;
  EXPECT_EQ(answer(router::LocalCommand::ClientGetName, {"CLIENT", "GETNAME"}, state).reply,
            "$-1\r\n");
  EXPECT_EQ(answer(router::LocalCommand::ClientSetName, {"CLIENT", "SETNAME", "w1"}, state).reply,
            "+OK\r\n");
  EXPECT_EQ(answer(router::LocalCommand::ClientGetName, {"CLIENT", "GETNAME"}, state).reply,
            "$2\r\nw1\r\n");
  EXPECT_EQ(answer(router::LocalCommand::ClientSetName, {"CLIENT", "SETNAME", "a b"}, state)
                .reply.rfind("-ERR", 0),
            0u);
}

TEST(LocalCommands, AuthChecksTheProxyPassword) {
  config::Config::Proxy settings;
  settings.password = "pw";
  ClientState state;
  EXPECT_EQ(answer(router::LocalCommand::Auth, {"AUTH", "bad"}, state, settings).reply,
            errors::kWrongPass);
  EXPECT_FALSE(state.authenticated);
  EXPECT_EQ(answer(router::LocalCommand::Auth, {"AUTH", "pw"}, state, settings).reply, "+OK\r\n");
  EXPECT_TRUE(state.authenticated);
  ClientState other;
  EXPECT_EQ(answer(router::LocalCommand::Auth, {"AUTH", "x"}, other).reply,
            errors::kAuthNotConfigured);
}

// Redis with only the `default` user: AUTH default <pass> is the same as
// AUTH <pass>; another user does not exist; with no password `default` is
// nopass.
TEST(LocalCommands, AuthTakesTheDefaultUserLikeRedis) {
  config::Config::Proxy settings;
  settings.password = "pw";
  ClientState state;
  EXPECT_EQ(answer(router::LocalCommand::Auth, {"AUTH", "app", "pw"}, state, settings).reply,
            errors::kWrongPass);
  EXPECT_EQ(answer(router::LocalCommand::Auth, {"AUTH", "Default", "pw"}, state, settings).reply,
            errors::kWrongPass);  // user names are case-sensitive
  EXPECT_EQ(answer(router::LocalCommand::Auth, {"AUTH", "default", "p"}, state, settings).reply,
            errors::kWrongPass);
  EXPECT_EQ(answer(router::LocalCommand::Auth, {"AUTH", "default", "pwx"}, state, settings).reply,
            errors::kWrongPass);
  EXPECT_FALSE(state.authenticated);
  EXPECT_EQ(answer(router::LocalCommand::Auth, {"AUTH", "default", "pw"}, state, settings).reply,
            "+OK\r\n");
  EXPECT_TRUE(state.authenticated);
  ClientState open;
  EXPECT_EQ(answer(router::LocalCommand::Auth, {"AUTH", "default", "any"}, open).reply, "+OK\r\n");
  EXPECT_EQ(answer(router::LocalCommand::Auth, {"AUTH", "app", "any"}, open).reply,
            errors::kWrongPass);
  ClientState hello;
  EXPECT_EQ(
      answer(router::LocalCommand::Hello, {"HELLO", "2", "AUTH", "app", "pw"}, hello, settings)
          .reply,
      errors::kWrongPass);
  EXPECT_FALSE(hello.authenticated);
}

/* Users from proxy.users, in Redis's ACL file syntax: AUTH <user> <pass>
 * and HELLO's AUTH log in as them, ACL WHOAMI names them, RESET goes back
 * to `default`; an unknown user, a disabled one and a wrong password are
 * answered alike. */
TEST(LocalCommands, AuthLogsInAsAConfiguredUser) {
  config::Config::Proxy settings;
  settings.password = "pw";
  // sha256("secret"), as ACL SAVE writes it
  settings.users = {
      "user app on #2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b +@read",
      "user old off >secret +@all", "user open on nopass +ping"};
  const config::AclUsers users(settings.password, settings.users);
  ClientState state;
  state.reset(users);
  EXPECT_FALSE(state.authenticated);
  EXPECT_EQ(answer(router::LocalCommand::AclWhoami, {"ACL", "WHOAMI"}, state, settings).reply,
            "$7\r\ndefault\r\n");
  EXPECT_EQ(answer(router::LocalCommand::Auth, {"AUTH", "app", "wrong"}, state, settings).reply,
            errors::kWrongPass);
  EXPECT_EQ(answer(router::LocalCommand::Auth, {"AUTH", "old", "secret"}, state, settings).reply,
            errors::kWrongPass);  // off: no new logins
  EXPECT_EQ(answer(router::LocalCommand::Auth, {"AUTH", "nobody", "x"}, state, settings).reply,
            errors::kWrongPass);
  EXPECT_FALSE(state.authenticated);
  EXPECT_EQ(answer(router::LocalCommand::Auth, {"AUTH", "app", "secret"}, state, settings).reply,
            "+OK\r\n");
  EXPECT_TRUE(state.authenticated);
  EXPECT_EQ(answer(router::LocalCommand::AclWhoami, {"ACL", "WHOAMI"}, state, settings).reply,
            "$3\r\napp\r\n");
  EXPECT_EQ(answer(router::LocalCommand::Hello, {"HELLO", "3", "AUTH", "open", "anything"}, state,
                   settings)
                .reply,
            redisHello('%', 3, 0));
  EXPECT_EQ(state.user->name, "open");
  EXPECT_EQ(answer(router::LocalCommand::Reset, {"RESET"}, state, settings).reply, "+RESET\r\n");
  EXPECT_EQ(state.user->name, "default");
  EXPECT_FALSE(state.authenticated);  // default has a password
  EXPECT_EQ(answer(router::LocalCommand::Auth, {"AUTH", "pw"}, state, settings).reply, "+OK\r\n");
  EXPECT_EQ(state.user->name, "default");
}

TEST(LocalCommands, QuitClosesAfterReplying) {
  ClientState state;
  const auto quit = answer(router::LocalCommand::Quit, {"QUIT"}, state);
  EXPECT_EQ(quit.reply, "+OK\r\n");
  EXPECT_TRUE(quit.close_after);
}

}  // namespace
}  // namespace rhp::proxy
