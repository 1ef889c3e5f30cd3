#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "commands/redis_match.h"
#include "proxy/client_session.h"
#include "router/errors.h"

namespace rhp::proxy {

/* proxy.auth = "passthrough": the nodes know the users. An AUTH (or HELLO
 * with AUTH) is checked by logging in as the user on a node (LoginProbe),
 * unless the same user and password were accepted within
 * proxy.auth_cache_ms; the command then runs as redis-server runs it, and
 * the client's requests travel on connections logged in as its user
 * (Request::login), so that Redis answers -NOPERM exactly as it would to
 * the client. While a node checks, the client's next requests wait: Redis
 * runs them as whoever the AUTH leaves the connection logged in as. */

namespace {

struct Credentials {
  std::string_view name;
  std::string_view password;
};

/* The user and password an AUTH or HELLO logs in with, as redis-server
 * reads them; none for a command it would refuse first (a syntax error, an
 * unknown protocol version), whose answer then needs no node. */
std::optional<Credentials> credentialsOf(router::LocalCommand local,
                                         const commands::ArgAccess& args, std::size_t argc) {
  if (local == router::LocalCommand::Auth) {
    if (argc == 2) return Credentials{"default", args[1]};
    if (argc == 3) return Credentials{args[1], args[2]};
    return std::nullopt;
  }
  if (local != router::LocalCommand::Hello || argc < 2) return std::nullopt;
  if (args[1] != "2" && args[1] != "3") return std::nullopt;
  std::optional<Credentials> found;
  for (std::size_t next = 2; next < argc; ++next) {
    if (commands::equalsIgnoreCase(args[next], "auth") && next + 2 < argc) {
      found = Credentials{args[next + 1], args[next + 2]};
      next += 2;
    } else if (commands::equalsIgnoreCase(args[next], "setname") && next + 1 < argc) {
      next += 1;
    } else {
      return std::nullopt;  // HELLO's syntax error comes first
    }
  }
  return found;
}

struct ArgList {
  static std::string_view at(const void* raw, std::size_t index) {
    return (*static_cast<const std::vector<std::string>*>(raw))[index];
  }
};

}  // namespace

bool ClientSession::answerPassthroughLogin(router::LocalCommand local,
                                           const commands::ArgAccess& args, std::size_t argc) {
  if (local == router::LocalCommand::Auth && argc == 2 && host_.users().defaultUser()->nopass) {
    answerNow(errors::kAuthDefaultNopass);  // as Redis: nothing to check
    return true;
  }
  const auto credentials = credentialsOf(local, args, argc);
  if (!credentials) return false;
  if (BackendLoginPtr login = host_.acceptedLogin(credentials->name, credentials->password)) {
    Slot& slot = queue_.add();
    answerInSlot(slot, answerLoggedIn(local, login, args, argc));
    return true;
  }
  LoginCheck check{local,
                   {},
                   std::make_shared<BackendLogin>(BackendLogin{
                       std::string(credentials->name), std::string(credentials->password), {}}),
                   &queue_.add()};
  check.args.reserve(argc);
  for (std::size_t i = 0; i < argc; ++i) check.args.emplace_back(args[i]);
  RequestPtr request = host_.requestPool().acquire();
  request->reply_to = {this, check.slot};
  check.slot->request = request.get();
  std::shared_ptr<BackendLogin> login = check.login;
  login_check_ = std::move(check);
  if (reading_) stream_.stopReading();  // resumed by onLoginChecked
  host_.checkLogin(std::move(login), std::move(request));
  return true;
}

std::string ClientSession::answerLoggedIn(router::LocalCommand local, const BackendLoginPtr& login,
                                          const commands::ArgAccess& args, std::size_t argc) {
  const config::AclUsers users =
      config::AclUsers::acceptedByNodes(login->username, login->password, login->refused);
  const auto user = users.find(login->username);
  LocalAnswer answer = answerLocally(local, args, argc, state_, host_.config().proxy, users);
  // Logged in by this command, even if it then failed: redis-server 7.0
  // logs in as HELLO meets AUTH, before a bad SETNAME after it. A session
  // logged in without its login would run as backend.username.
  if (state_.user == user) state_.login = login;
  if (state_.resp == commands::Resp::V3) host_.useResp3();
  return std::move(answer.reply);
}

void ClientSession::onLoginChecked(std::string_view reply) {
  LoginCheck check = std::move(*login_check_);
  login_check_.reset();
  check.slot->request = nullptr;
  if (reply == "+OK\r\n") {
    host_.loginAccepted(check.login);
    const commands::ArgAccess args{&check.args, &ArgList::at};
    answerInSlot(*check.slot, answerLoggedIn(check.local, check.login, args, check.args.size()));
  } else {
    answerInSlot(*check.slot, reply);
  }
  // The requests that waited behind it, then the socket again. Answered
  // from inside process() (no node could check it), the loop there goes on
  // by itself: parsing input_ here again would run what it holds twice.
  if (!closed_ && !processing_ && !input_.empty()) parseBuffered();
  if (!closed_ && reading_ && !login_check_ && !paused_for_room_ && !input_closed_) {
    stream_.startReading();
  }
}

/* Redis 7.0 asks at each command whether a client that never logged in
 * must (authRequired: the default user has a password, or is off), so a
 * client connected before the nodes' answer came, or before `default`
 * changed, is what `default` is now. */
void ClientSession::followNodesDefault() {
  const auto& now = host_.users().defaultUser();
  if (state_.user == now) return;
  state_.user = now;
  state_.authenticated = now->enabled && now->nopass;
}

void ClientSession::answerInSlot(Slot& slot, std::string_view reply) {
  countReply(reply);
  queue_.hold(slot, reply);
  if (!reply.starts_with("-WRONGPASS") || !auth_delay_.delay(slot)) {
    slot.ready = true;
    takeReady();
  }
  scheduleFlush();
}

}  // namespace rhp::proxy
