#include "proxy/client_session.h"

#include <spdlog/spdlog.h>

#include <limits>

#include <algorithm>

#include "commands/blocking_timeout.h"
#include "commands/redis_match.h"
#include "commands/resp_array.h"
#include "proxy/client_writes.h"
#include "proxy/proxy_commands.h"
#include "proxy/proxy_log.h"
#include "router/decision.h"
#include "router/errors.h"
#include "router/placement.h"

namespace rhp::proxy {

namespace {

std::string encodeArray(const RequestParser& parser, std::string_view in) {
  std::string out;
  commands::appendRespHeader(out, '*', parser.argc());
  for (std::size_t i = 0; i < parser.argc(); ++i) commands::appendBulk(out, parser.arg(in, i));
  return out;
}

struct ArgContext {
  const RequestParser* parser;
  std::string_view in;
};

}  // namespace

ClientSession::ClientSession(SessionHost& host, net::UvHandle<uv_tcp_t> tcp,
                             const std::shared_ptr<const net::TlsServerContext>& tls)
    : host_(host),
      dedicated_(host, *this, *this),
      auth_delay_(host.loop(),
                  [this] {
                    if (closed_) return;
                    takeReady();
                    scheduleFlush();
                  }),
      stream_(*this, std::move(tcp), host.readBuffer(), tls),
      parser_(ParserLimits{host.config().proxy.max_bulk_len, host.config().proxy.max_array_len}) {
  state_.reset(host.users());
  state_.id = host.newClientId();
  last_read_ms_ = unauthenticated_since_ms_ = host.now();
}

ClientSession::~ClientSession() {
  close();
}

std::size_t ClientSession::process(std::string_view in) {
  std::size_t offset = 0;
  const bool outer = !std::exchange(processing_, true);
  struct Done {
    bool& flag;
    bool outer;
    ~Done() {
      if (outer) flag = false;
    }
  } done{processing_, outer};
  // A request can close the session (its dedicated connection failing at
  // once, say): then nothing after it may run.
  // A passthrough AUTH being checked (login_check_): what follows it runs
  // as the user it logs in as, or not, so it waits.
  while (offset < in.size() && !input_closed_ && !closed_ && !login_check_) {
    if (!hasRoom()) {
      pauseForRoom();
      break;
    }
    const std::string_view request_bytes = in.substr(offset);
    const auto result = parser_.parse(request_bytes);
    if (result == RequestParser::Result::NeedMore) break;
    if (result == RequestParser::Result::ProtocolError) {
      proxyLog()->debug("client protocol error: {}", parser_.error());
      answerNow(parser_.error(), true);
      return in.size();
    }
    if (parser_.argc() > 0) handleRequest(request_bytes);
    offset += parser_.frameLength();
    parser_.reset();
  }
  return offset;
}

namespace {

RequestPtr internalRequest(std::initializer_list<std::string_view> args, const ClientState& state,
                           BackendLoginPtr login) {
  auto request = newRequest();
  request->payload = commands::respCommand(args);
  request->db = state.db;
  request->resp = state.resp;
  request->login = std::move(login);
  return request;
}

}  // namespace

void ClientSession::handleRequest(std::string_view request_bytes) {
  if (!state_.login && host_.config().proxy.auth == config::AuthMode::Passthrough) {
    followNodesDefault();
  }
  ArgContext context{&parser_, request_bytes};
  commands::RouteRequest request;
  request.name = parser_.arg(request_bytes, 0);
  request.subcommand = parser_.argc() > 1 ? parser_.arg(request_bytes, 1) : std::string_view{};
  request.argc = parser_.argc();
  request.args = {&context, [](const void* raw, std::size_t index) {
                    const auto* ctx = static_cast<const ArgContext*>(raw);
                    return ctx->parser->arg(ctx->in, index);
                  }};
  const router::Decision decision = router::decide(
      request,
      {state_.authenticated, pubsub_.subscribed(), txn_, state_.resp, !tracking_command_.empty(),
       state_.user->rules.unrestricted() ? nullptr : &state_.user->rules},
      host_.allowList(), host_.learnedCommands());
  host_.metrics().commands[commandClassIndex(decision.route.target)].add();
  if (UserMetrics* user = userMetrics()) {
    user->requests.add();
    // Passthrough: counted with the nodes' own, in countReply().
    if (decision.route.refusal == commands::Refusal::NoPerm && !state_.login) user->noperms.add();
  }
  txn_ = decision.txn;
  if (decision.starts_transaction) {
    txn_id_ = ++txn_sequence_;
    txn_acknowledged_ = false;
  }
  execute(decision, request, request_bytes);
}

/* Carries out what router::decide() said; decides nothing itself. */
void ClientSession::execute(const router::Decision& decision, const commands::RouteRequest& request,
                            std::string_view bytes) {
  switch (decision.before) {
    case router::Before::WaitMarker:
      submit({internalRequest({"PUBLISH", "__redis-ha-proxy__:wait", "1"}, state_, login()),
              router::Via::Dedicated});
      break;
    case router::Before::Discard: {
      RequestPtr discard = internalRequest({"DISCARD"}, state_, login());
      discard->txn = txn_id_;
      discard->family = commands::Family::Discard;
      submit({std::move(discard), router::Via::Dedicated});
      break;
    }
    case router::Before::Nothing:
      break;
  }
  switch (decision.step) {
    case router::Step::Answer:
      answerLocal(decision.route, request.args, request.argc);
      break;
    case router::Step::Reply:
      answerNow(decision.reply, decision.close_after);
      break;
    case router::Step::LeavePubSub:
      leavePubSub(decision.reply, decision.close_after);
      break;
    case router::Step::Forward:
      if (decision.via == router::Via::PubSub) {
        forwardPubSub(decision, request, bytes);
        break;
      }
      forward(decision, request, bytes);
      break;
  }
  // After forwarding: a RESET on the dedicated connection goes out on the
  // client's db, and the reset state applies to what follows it.
  if (decision.resets_client) {
    state_.reset(host_.users());
    // RESET turns tracking off and unsubscribes (RESP3: Redis does it on
    // the client's connection, where the RESET went).
    tracking_command_.clear();
    tracking_confirmed_.clear();
    pubsub_.clear();
    dedicated_.stopResubscribing();
  }
  if (decision.tracking == router::TrackingChange::On) {
    tracking_command_ = parser_.isInline() ? encodeArray(parser_, bytes)
                                           : std::string(bytes.substr(0, parser_.frameLength()));
  } else if (decision.tracking == router::TrackingChange::Off) {
    tracking_command_.clear();
  }
}

void ClientSession::forward(const router::Decision& decision, const commands::RouteRequest& command,
                            std::string_view bytes) {
  RequestPtr request = makeRequest(bytes, decision.route);
  if (decision.route.spec != nullptr) {
    if (auto timeout = commands::blockingTimeout(*decision.route.spec, command.args, command.argc);
        timeout && timeout->index <= std::numeric_limits<std::uint16_t>::max()) {
      request->timeout_arg = static_cast<std::uint16_t>(timeout->index);
      request->timeout_millis = timeout->millis;
      request->timeout_ms = timeout->value_ms;
    }
  }
  if (decision.append_proxy_info) request->reply_to.slot->append_proxy_info = true;
  if (decision.in_transaction) request->txn = txn_id_;
  if (decision.route.spec != nullptr) request->family = decision.route.spec->family;
  request->resets_connection = decision.resets_connection;
  request->enables_tracking = decision.tracking == router::TrackingChange::On;
  submit({std::move(request), decision.via});
}

void ClientSession::answerLocal(const router::Route& route, const commands::ArgAccess& args,
                                std::size_t argc) {
  if (route.local == router::LocalCommand::Proxy) {
    answerNow(answerProxyCommand(args, argc, host_.proxyView()));
    return;
  }
  if (host_.config().proxy.auth == config::AuthMode::Passthrough &&
      answerPassthroughLogin(route.local, args, argc)) {
    return;
  }
  LocalAnswer answer =
      answerLocally(route.local, args, argc, state_, host_.config().proxy, host_.users());
  if (state_.resp == commands::Resp::V3) host_.useResp3();
  if (answer.reply == errors::kWrongPass) {
    answerAfterAuthDelay(answer.reply);
    return;
  }
  answerNow(answer.reply, answer.close_after);
}

/* A wrong password's answer waits (AuthDelay). */
void ClientSession::answerAfterAuthDelay(std::string_view reply) {
  answerInSlot(queue_.add(), reply);
}

/* The request just parsed, as RESP bytes to forward (inline commands are
 * re-encoded), on the client's current db. */
RequestPtr ClientSession::requestFromFrame(std::string_view bytes) {
  RequestPtr request = host_.requestPool().acquire();
  if (parser_.isInline()) {
    request->payload = encodeArray(parser_, bytes);
  } else {
    request->payload.assign(bytes.substr(0, parser_.frameLength()));  // reuses the capacity
  }
  request->db = state_.db;
  request->resp = state_.resp;
  request->login = login();
  return request;
}

RequestPtr ClientSession::makeRequest(std::string_view bytes, const router::Route& route) {
  RequestPtr request = requestFromFrame(bytes);
  const bool read = route.spec != nullptr && route.spec->has(commands::kReadOnly) &&
                    !route.spec->has(commands::kWrite);
  // A blocking command that got no answer popped nothing; sending it again
  // (to the new master after a failover) is what lets blocked clients
  // follow the master.
  request->retry_safe = (read && !route.spec->has(commands::kBlocking)) ||
                        route.target == router::TargetKind::Blocking;
  request->replica_ok = read;
  request->reply_to.sink = this;
  Slot& slot = queue_.add();
  request->reply_to.slot = &slot;
  slot.request = request.get();
  slot.received_us = host_.clock().micros();
  slot.request_bytes = request->payload.size();
  request_bytes_ += request->payload.size();
  return request;
}

ClientSession::Lane ClientSession::laneOf(const Pending& pending) {
  if (pending.how == router::Via::Dedicated) return Lane::Dedicated;
  if (pending.how == router::Via::PubSub) {
    // RESP2 frames are told apart by pass-through mode, RESP3 ones by type:
    // a switch waits until the other's are in.
    return pending.request->resp == commands::Resp::V3 ? Lane::PubSubResp3 : Lane::PubSub;
  }
  return pending.request->resp == commands::Resp::V3 ? Lane::SharedResp3 : Lane::Shared;
}

/* Another lane, or the same lane as another user (passthrough): each user
 * has connections of its own, so what the client sent as one user is
 * answered before what it sends as the next, as on one Redis connection. */
bool ClientSession::switchesLane(const Pending& pending) const {
  return laneOf(pending) != lane_ || !sameLogin(pending.request->login, lane_login_);
}

void ClientSession::submit(Pending pending) {
  // Urgent requests wait for nothing of the client's own: a KILL behind the
  // client's own busy script would wait for the script it ends.
  if (pending.how == router::Via::Urgent) {
    dispatch(std::move(pending));
    return;
  }
  if (!deferred_.empty() || (busy() && switchesLane(pending))) {
    deferred_.push_back(std::move(pending));
    return;
  }
  dispatch(std::move(pending));
}

void ClientSession::drainDeferred() {
  if (draining_ || closed_) return;
  draining_ = true;
  while (!deferred_.empty() && !closed_) {
    if (busy() && switchesLane(deferred_.front())) break;
    Pending next = std::move(deferred_.front());
    deferred_.pop_front();
    dispatch(std::move(next));
  }
  draining_ = false;
}

void ClientSession::dispatch(Pending pending) {
  if (pending.how != router::Via::Urgent) {
    lane_ = laneOf(pending);
    // Compared first: a shared_ptr copy is two atomic operations a request.
    if (lane_login_ != pending.request->login) lane_login_ = pending.request->login;
  }
  RequestPtr& request = pending.request;
  const bool counted = request->reply_to.waiting() && pending.how != router::Via::PubSub;
  if (counted) ++lane_outstanding_;
  switch (pending.how) {
    case router::Via::Read:
    case router::Via::Scan:
    case router::Via::ScanStart:
      if (router::readsOwnWrite(last_write_ms_, host_.now(),
                                host_.config().routing.sticky_after_write)) {
        request->replica_ok = false;  // the master has the client's write
      }
      break;
    case router::Via::Master:
    case router::Via::Broadcast:
      // Counted from now, not when it reaches the master: a write waiting
      // in the hold queue must keep the client's next read off replicas.
      if (pending.how == router::Via::Master) last_write_ms_ = host_.now();
      if (request->reply_to.waiting() && floorInUse()) {
        request->reply_to.slot->reach = Slot::Reach::Submitted;
        floor_.submitted();
      }
      break;
    case router::Via::Urgent:
      break;
    case router::Via::Dedicated:
      last_write_ms_ = host_.now();
      if (request->reply_to.waiting()) sent(*request->reply_to.slot, nullptr);
      dedicated_.send(std::move(request), false);
      return;
    case router::Via::PubSub:
      pubsub_frames_due_ += pending.frames;
      dedicated_.send(std::move(request), true);
      return;
  }
  host_.dispatch(pending.how, std::move(request), scan_node_);
}

/* What Redis made of a CLIENT TRACKING: on or off as asked, or, refused,
 * as it was. */
void ClientSession::noteTrackingReply(const Request& request, std::string_view reply) {
  if (!request.enables_tracking) {
    if (!reply.starts_with('-')) tracking_confirmed_.clear();
    return;
  }
  // Only the latest CLIENT TRACKING on counts: an earlier one answered
  // after it was replaced, or after a RESET, changes nothing.
  if (request.payload != tracking_command_) return;
  if (reply.starts_with('-')) {
    tracking_command_ = tracking_confirmed_;
  } else {
    tracking_confirmed_ = request.payload;
  }
}

void ClientSession::onTrackingLost() {
  if (closed_ || state_.resp != commands::Resp::V3) return;
  // What Redis sends a tracking client on FLUSHALL: invalidate, null.
  queue_.push(">2\r\n$10\r\ninvalidate\r\n_\r\n");
  scheduleFlush();
}

std::string_view ClientSession::clientName() const {
  return state_.name;
}

std::string ClientSession::resubscribeCommands(std::size_t& frames) {
  return pubsub_.resubscribeCommands(frames);
}

void ClientSession::onMasterUpdate(const std::optional<config::Address>& master) {
  if (!closed_) dedicated_.onMasterUpdate(master);
}

void ClientSession::checkIdle(std::uint64_t now_ms) {
  if (closed_ || overPubSubLimit(now_ms)) return;
  const auto& settings = host_.config().proxy;
  // No request byte arrives before the handshake is done, so the last read
  // is the accept until then.
  if (stream_.handshaking() &&
      now_ms - last_read_ms_ >=
          static_cast<std::uint64_t>(settings.tls_handshake_timeout.count())) {
    onTlsFailure(
        net::TlsFailure::HandshakeTimeout,
        fmt::format("no TLS handshake within {} ms", settings.tls_handshake_timeout.count()),
        stream_.peer());
    close();
    return;
  }
  if (state_.authenticated) {
    unauthenticated_since_ms_ = now_ms;  // a RESET starts the clock again
  } else if (now_ms - unauthenticated_since_ms_ >=
             static_cast<std::uint64_t>(settings.auth_timeout.count())) {
    proxyLog()->debug("client closed: not authenticated within {} ms",
                      settings.auth_timeout.count());
    host_.metrics().clients_timed_out.add();
    close();
    return;
  }
  const bool waiting = pubsub_.subscribed() || !queue_.empty() || dedicated_.hasWaiting();
  if (settings.timeout > 0 && !waiting &&
      now_ms - last_read_ms_ >= std::uint64_t{settings.timeout} * 1000) {
    host_.metrics().clients_timed_out.add();
    close();
  }
}

void ClientSession::onUsersChanged(const config::AclUsers& users) {
  // Passthrough: the nodes' users, which a reload does not change.
  if (closed_ || state_.login) return;
  auto now = users.find(state_.user->name);
  if (now == nullptr) {
    proxyLog()->info("client closed: its user {} is no longer defined", state_.user->name);
    close();
    return;
  }
  state_.user = std::move(now);
}

void ClientSession::onTick(std::uint64_t now_ms) {
  if (!closed_) dedicated_.onTick(now_ms);
}

void ClientSession::countReply(std::string_view reply) {
  if (!reply.empty() && reply[0] == '-') {
    host_.metrics().errors[static_cast<std::size_t>(classifyError(reply))].add();
    if (UserMetrics* user = userMetrics()) {
      user->errors.add();
      // Passthrough: the nodes refuse, and the proxy for what it answers.
      if (state_.login && reply.starts_with("-NOPERM")) user->noperms.add();
    }
  }
}

UserMetrics* ClientSession::userMetrics() {
  if (metered_user_ != state_.user) {
    metered_user_ = state_.user;
    user_metrics_ = host_.metrics().user(state_.user->name);
  }
  return user_metrics_;
}

bool ClientSession::idleForDrain() const {
  if (closed_ || !deferred_.empty() || dedicated_.hasWaiting()) return false;
  return queue_.onlyStreams();
}

void ClientSession::answerNow(std::string_view reply, bool close_after) {
  countReply(reply);
  if (close_after) {
    input_closed_ = true;
    stopReading();
  }
  if (queue_.answer(reply, close_after)) close_after_output_ = true;
  scheduleFlush();
}

void ClientSession::complete(Slot& slot, std::string_view reply) {
  if (login_check_ && &slot == login_check_->slot) {
    onLoginChecked(reply);
    return;
  }
  if (slot.append_proxy_info) {
    slot.append_proxy_info = false;
    const std::string extended = appendToBulk(reply, proxyInfoSection(host_.proxyView()));
    complete(slot, extended);
    return;
  }
  countReply(reply);
  if (slot.received_us != 0) {
    // Observed when the reply is written (flush), with that write's time.
    unobserved_.push_back(
        {slot.received_us, slot.request != nullptr ? slot.request->backend_us : 0});
  }
  if (slot.request != nullptr && slot.request->family == commands::Family::ClientTracking) {
    noteTrackingReply(*slot.request, reply);
  }
  if (slot.request != nullptr && slot.request->txn != 0 && !reply.empty() && reply[0] == '-') {
    dedicated_.noteTransactionError(slot.request->txn);
  } else if (slot.request != nullptr && slot.request->txn == txn_id_ && txn_id_ != 0) {
    txn_acknowledged_ = true;
  }
  slot.request = nullptr;
  if (slot.reach == Slot::Reach::Sent) floor_.answered(router::ReadFloor::Clock::now());
  if (slot.reach == Slot::Reach::Submitted) floor_.withdrawn();
  slot.reach = Slot::Reach::None;
  request_bytes_ -= slot.request_bytes;
  slot.request_bytes = 0;
  // Grows at once with a big reply and forgets it over ~16 smaller ones:
  // after one 100 MB value the window stays small for a while, not forever.
  reply_estimate_ = reply.size() >= reply_estimate_
                        ? reply.size()
                        : reply_estimate_ - (reply_estimate_ - reply.size()) / 16;
  if (lane_outstanding_ > 0) --lane_outstanding_;
  if (queue_.fill(slot, reply)) close_after_output_ = true;
  scheduleFlush();
  if (!busy()) drainDeferred();
}

void ClientSession::sent(Slot& slot, const config::Address* replica) {
  if (!floorInUse()) return;
  using Send = router::ReadFloor::Send;
  const Send send = slot.reach == Slot::Reach::None        ? Send::First
                    : slot.reach == Slot::Reach::Submitted ? Send::AfterSubmit
                                                           : Send::Again;
  slot.reach = Slot::Reach::Sent;
  if (replica == nullptr) {
    floor_.sentToMaster(send);
  } else {
    floor_.sentToReplica(*replica, send);
  }
}

router::ReadFloor* ClientSession::readFloor() {
  return floorInUse() ? &floor_ : nullptr;
}

bool ClientSession::floorInUse() const {
  // Only "prefer-replica" sends reads where a floor matters; a reload that
  // turns it on applies to requests sent from then on.
  const config::Config::Routing& routing = host_.config().routing;
  return routing.read_your_writes &&
         routing.read_policy == config::Config::Routing::ReadPolicy::PreferReplica;
}

}  // namespace rhp::proxy
