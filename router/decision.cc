#include "router/decision.h"

#include <cctype>
#include <optional>

#include "commands/redis_match.h"
#include "commands/resp_array.h"
#include "router/errors.h"
#include "router/refusal_reply.h"

namespace rhp::router {

using commands::Family;

namespace {

std::string commandName(const RouteRequest& request, const Route& route) {
  if (route.spec != nullptr) return std::string(route.spec->name);
  std::string out(request.name);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Family familyOf(const Route& route) {
  return route.spec != nullptr ? route.spec->family : Family::None;
}

std::string refusalOf(const RouteRequest& request, const Route& route) {
  return refusalReply(route.refusal, commandName(request, route), route.detail);
}

/* What redis-server answers to an UNSUBSCRIBE-family command on a
 * connection with no subscriptions: one confirmation per argument, or one
 * with a nil channel. */
std::string unsubscribedConfirmations(const RouteRequest& request, const Route& route,
                                      commands::Resp resp) {
  const std::string name = commandName(request, route);
  auto frame = [&](std::string_view channel, bool nil) {
    std::string out;
    commands::appendRespHeader(out, commands::pubSubFrameType(resp), 3);
    commands::appendBulk(out, name);
    if (nil) {
      out += commands::nullBulk(resp);
    } else {
      commands::appendBulk(out, channel);
    }
    return out + ":0\r\n";
  };
  if (request.argc <= 1) return frame({}, true);
  std::string out;
  for (std::size_t i = 1; i < request.argc; ++i) out += frame(request.args[i], false);
  return out;
}

Decision reply(Decision decision, std::string_view text) {
  decision.step = Step::Reply;
  decision.reply = text;
  return decision;
}

Decision answer(Decision decision) {
  decision.step = Step::Answer;
  return decision;
}

Decision forward(Decision decision, Via via) {
  decision.step = Step::Forward;
  decision.via = via;
  return decision;
}

/* In subscribed mode Redis accepts only (P|S)(UN)SUBSCRIBE, PING, QUIT and
 * RESET and answers anything else with an error; the proxy forwards the
 * rest and lets Redis say so. A refused command must not go out (Redis
 * would run it), and a forwarded RESET would leave the dedicated
 * connection logged in as Redis's default user: both end the stream. */
Decision decideSubscribed(const RouteRequest& request, Decision decision) {
  const Route& route = decision.route;
  if (route.target == TargetKind::Refused) {
    decision.step = Step::LeavePubSub;
    decision.reply = refusalOf(request, route);
    decision.close_after = true;
    return decision;
  }
  if (route.local == LocalCommand::Reset) {
    decision.step = Step::LeavePubSub;
    decision.reply = "+RESET\r\n";
    decision.resets_client = true;
    return decision;
  }
  if (route.local == LocalCommand::Quit) return answer(std::move(decision));
  // Redis refuses both in subscribed mode ("Can't execute 'auth'") and its
  // answer must come in order among the pushes, so they go to Redis, but
  // blanked: the client's credentials never leave the proxy.
  decision.blank_arguments =
      route.local == LocalCommand::Auth || route.local == LocalCommand::Hello;
  return forward(std::move(decision), Via::PubSub);
}

/* In RESP3 a subscribed connection runs any command (its pushes come
 * between the replies), so a request is decided as if it were not
 * subscribed, except that pub/sub commands go to the subscribed connection
 * (RESET goes there too: decide). Switching the subscribed connection to
 * RESP2 is refused: its subscriptions would need RESP2's stream, and Redis
 * would then refuse the client's other commands. */
std::optional<Decision> decideSubscribedResp3(const RouteRequest& request, Decision& decision) {
  const Route& route = decision.route;
  if (route.local == LocalCommand::Hello && request.argc >= 2 && request.args[1] == "2") {
    return reply(std::move(decision), errors::kHelloResp2WhileSubscribed);
  }
  if (route.target == TargetKind::PubSub && !decision.txn.pinned()) {
    return forward(std::move(decision), Via::PubSub);
  }
  return std::nullopt;
}

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

/* CLIENT TRACKING works on the client's own connection, whose pushes are
 * the client's alone. RESP2 delivers invalidations to another connection
 * (REDIRECT), which through a proxy is no connection the client knows. */
Decision decideTracking(const RouteRequest& request, Decision decision,
                        const SessionFacts& session) {
  if (session.resp != commands::Resp::V3) {
    return reply(std::move(decision), errors::kTrackingNeedsResp3);
  }
  for (std::size_t i = 3; i < request.argc; ++i) {
    if (equalsIgnoringCase(request.args[i], "redirect")) {
      return reply(std::move(decision), errors::kTrackingRedirect);
    }
  }
  // Anything else (a syntax error included) is Redis's to answer.
  if (equalsIgnoringCase(request.args[2], "on")) decision.tracking = TrackingChange::On;
  if (equalsIgnoringCase(request.args[2], "off")) decision.tracking = TrackingChange::Off;
  return forward(std::move(decision), Via::Dedicated);
}

/* Where a request that is not pinned to the client's connection goes. */
Decision decideUnpinned(const RouteRequest& request, Decision decision,
                        const SessionFacts& session);

/* The dedicated connection broke during the transaction: nothing of it
 * can run any more, and the client gets answers that say so until it ends
 * the transaction. */
Decision decideBroken(Decision decision) {
  Transaction& txn = decision.txn;
  if (decision.route.local == LocalCommand::Quit) return answer(std::move(decision));
  switch (familyOf(decision.route)) {
    case Family::Exec:
      txn = {};
      return reply(std::move(decision), errors::kExecAbortedConnectionLost);
    case Family::Discard: {
      const bool in_multi = txn.in_multi;
      if (in_multi) txn = {};
      return reply(std::move(decision), in_multi ? "+OK\r\n" : "-ERR DISCARD without MULTI\r\n");
    }
    case Family::Unwatch:
      if (txn.in_multi) break;
      txn = {};
      return reply(std::move(decision), "+OK\r\n");
    case Family::Multi:
      if (txn.in_multi) break;
      txn.in_multi = true;
      return reply(std::move(decision), "+OK\r\n");
    default:
      break;
  }
  return reply(std::move(decision), errors::kTransactionAborted);
}

/* Between WATCH or MULTI and EXEC/DISCARD/UNWATCH everything goes over the
 * client's own master connection, in order, as Redis requires. */
Decision decidePinned(const RouteRequest& request, Decision decision) {
  if (decision.txn.broken) return decideBroken(std::move(decision));
  const Route& route = decision.route;
  Transaction& txn = decision.txn;
  if (route.target == TargetKind::Local) {
    switch (route.local) {
      case LocalCommand::Quit:
      case LocalCommand::Auth:
      case LocalCommand::Hello:
        return answer(std::move(decision));
      case LocalCommand::Select:
        if (!txn.in_multi) return answer(std::move(decision));
        txn.poisoned = true;
        return reply(std::move(decision),
                     "-ERR SELECT inside MULTI is not supported by redis-ha-proxy\r\n");
      case LocalCommand::Reset:
        // Redis discards the transaction and unwatches; so does the proxy.
        // The connection comes back as the default user in db 0: it logs
        // in again behind the RESET.
        decision.resets_connection = true;
        decision.resets_client = true;
        decision.in_transaction = true;
        txn = {};
        return forward(std::move(decision), Via::Dedicated);
      default:
        if (!txn.in_multi) return answer(std::move(decision));
        break;  // inside MULTI Redis queues it
    }
  }
  if (route.target == TargetKind::Refused) {
    if (txn.in_multi) txn.poisoned = true;
    return reply(std::move(decision), refusalOf(request, route));
  }
  const Family family = familyOf(route);
  if (family == Family::Subscribe) {
    if (txn.in_multi) txn.poisoned = true;
    return reply(std::move(decision), errors::kSubscribeWhileWatching);
  }
  decision.in_transaction = true;
  if (family == Family::Exec && txn.in_multi && txn.poisoned) {
    decision.before = Before::Discard;
    txn = {};
    return reply(std::move(decision), errors::kExecAbortedPreviousErrors);
  }
  if (family == Family::Multi) {
    txn.in_multi = true;
  } else if (family == Family::Exec || (family == Family::Discard && txn.in_multi)) {
    txn = {};
  } else if (family == Family::Watch && !txn.in_multi) {
    txn.watching = true;
  } else if (family == Family::Unwatch && !txn.in_multi) {
    txn.watching = false;
  }
  return forward(std::move(decision), Via::Dedicated);
}

Decision decideScan(const RouteRequest& request, Decision decision) {
  const std::size_t cursor = cursorIndex(decision.route);
  const bool starts =
      cursor < request.argc && commands::redisScanCursorIsZero(request.args[cursor]);
  return forward(std::move(decision), starts ? Via::ScanStart : Via::Scan);
}

}  // namespace

Decision decide(const RouteRequest& request, const SessionFacts& session, const AllowList& allowed,
                const LearnedCommands* learned) {
  Decision decision;
  decision.route = pickRoute(request, allowed, learned);
  decision.txn = session.txn;
  const Route& route = decision.route;
  if (!session.authenticated && route.local != LocalCommand::Auth &&
      route.local != LocalCommand::Hello && route.local != LocalCommand::Quit) {
    return reply(std::move(decision), errors::kNoAuth);
  }
  // As Redis checks a user's permissions: after authentication, for every
  // command but the four flagged no-auth (AUTH, HELLO, QUIT, RESET);
  // refused like the proxy's own refusals, so a transaction is aborted the
  // same way.
  if (session.permissions != nullptr && route.spec != nullptr &&
      route.target != TargetKind::Refused && route.local != LocalCommand::Auth &&
      route.local != LocalCommand::Hello && route.local != LocalCommand::Quit &&
      route.local != LocalCommand::Reset) {
    if (const auto denial = session.permissions->check(*route.spec);
        denial != commands::AclDenial::None) {
      decision.route.target = TargetKind::Refused;
      decision.route.local = LocalCommand::None;
      decision.route.refusal = Refusal::NoPerm;
      decision.route.detail = denial == commands::AclDenial::Keys       ? "keys"
                              : denial == commands::AclDenial::Channels ? "channels"
                                                                        : "";
    }
  }
  // Subscriptions of a RESP3 client and client tracking live in Redis, on
  // the client's own connection: RESET goes there, in its turn after what
  // the client sent before, and Redis ends both (and logs the connection
  // out, so it logs in again behind it).
  const bool state_in_redis =
      session.tracking || (session.subscribed && session.resp == commands::Resp::V3);
  if (route.local == LocalCommand::Reset && state_in_redis && !session.txn.pinned()) {
    decision.resets_client = true;
    decision.resets_connection = true;
    return forward(std::move(decision), Via::Dedicated);
  }
  if (session.tracking && route.local == LocalCommand::Hello && request.argc >= 2 &&
      request.args[1] == "2") {
    return reply(std::move(decision), errors::kHelloResp2WhileTracking);
  }
  if (session.subscribed && session.resp == commands::Resp::V3) {
    if (auto decided = decideSubscribedResp3(request, decision)) return std::move(*decided);
  } else if (session.subscribed) {
    return decideSubscribed(request, std::move(decision));
  }
  if (session.txn.pinned()) return decidePinned(request, std::move(decision));
  decision = decideUnpinned(request, std::move(decision), session);
  if (session.tracking && decision.step == Step::Forward) {
    switch (decision.via) {
      case Via::Master:
      case Via::Read:
      case Via::ScanStart:
      case Via::Scan:
      case Via::Broadcast:
        // What a tracking client reads must be read on the connection
        // that receives its invalidations.
        decision.via = Via::Dedicated;
        break;
      case Via::Dedicated:
      case Via::PubSub:
      case Via::Urgent:
        break;
    }
  }
  return decision;
}

namespace {

Decision decideUnpinned(const RouteRequest& request, Decision decision,
                        const SessionFacts& session) {
  const Route& route = decision.route;
  if (route.target != TargetKind::Refused) {
    if (familyOf(route) == Family::ClientTracking) {
      return decideTracking(request, std::move(decision), session);
    }
    // Redis answers it on the tracking connection (or says tracking is off).
    if (familyOf(route) == Family::ClientCaching) {
      return forward(std::move(decision), Via::Dedicated);
    }
  }
  switch (route.target) {
    case TargetKind::Local:
      return answer(std::move(decision));
    case TargetKind::Refused:
      return reply(std::move(decision), refusalOf(request, route));
    case TargetKind::Master:
      // INFO answers with the master's text plus what the proxy sees, so
      // dashboards that parse INFO keep working through it.
      decision.append_proxy_info = familyOf(route) == Family::Info;
      return forward(std::move(decision),
                     familyOf(route) == Family::EndsBusyScript ? Via::Urgent : Via::Master);
    case TargetKind::Read:
      return forward(std::move(decision), Via::Read);
    case TargetKind::Scan:
      return decideScan(request, std::move(decision));
    case TargetKind::Broadcast:
      return forward(std::move(decision), Via::Broadcast);
    case TargetKind::Transaction: {
      const Family family = familyOf(route);
      Transaction& txn = decision.txn;
      decision.starts_transaction = family == Family::Multi || family == Family::Watch;
      if (family == Family::Multi) txn.in_multi = true;
      if (family == Family::Watch) txn.watching = true;
      // EXEC, DISCARD, UNWATCH outside a transaction: Redis's own answer
      // (an error, or OK) from any master connection.
      decision.in_transaction = txn.pinned();
      return forward(std::move(decision), txn.pinned() ? Via::Dedicated : Via::Master);
    }
    case TargetKind::Blocking:
      // WAIT counts replicas that acknowledged this connection's last
      // write. The client's writes went over shared connections (and are
      // answered: the lane switch waits), so a write of the proxy's own on
      // the dedicated connection stands in for them.
      if (familyOf(route) == Family::Wait) decision.before = Before::WaitMarker;
      return forward(std::move(decision), Via::Dedicated);
    case TargetKind::PubSub:
      if (familyOf(route) != Family::Subscribe) {
        return reply(std::move(decision), unsubscribedConfirmations(request, route, session.resp));
      }
      return forward(std::move(decision), Via::PubSub);
  }
  return decision;
}

}  // namespace
}  // namespace rhp::router
