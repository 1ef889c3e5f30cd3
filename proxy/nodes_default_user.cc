#include "proxy/nodes_default_user.h"

#include "proxy/node_pool.h"
#include "proxy/proxy_log.h"

namespace rhp::proxy {

NodesDefaultUser::NodesDefaultUser(std::function<void()> changed)
    : changed_(std::move(changed)),
      login_(std::make_shared<const BackendLogin>(BackendLogin{"default", "", {}})) {}

NodesDefaultUser::~NodesDefaultUser() {
  if (asked_ != nullptr) asked_->reply_to.cancel();
}

void NodesDefaultUser::check(NodePool& node, std::uint64_t now_ms, std::uint64_t interval_ms) {
  if (asked_ != nullptr || (ever_asked_ && now_ms - asked_at_ms_ < interval_ms)) return;
  ever_asked_ = true;
  asked_at_ms_ = now_ms;
  candidate_ = std::make_shared<BackendLogin>(BackendLogin{"default", "", {}});
  RequestPtr request = newRequest();
  request->reply_to = {static_cast<ReplySink*>(this), &slot_};
  asked_ = request.get();
  node.checkLogin(candidate_, std::move(request));
}

void NodesDefaultUser::complete(Slot&, std::string_view reply) {
  asked_ = nullptr;
  bool nopass = false;
  if (reply == "+OK\r\n") {
    nopass = true;
  } else if (!reply.starts_with("-WRONGPASS")) {
    return;  // not asked after all (unreachable, failing over): as before
  }
  const bool changed = nopass != nopass_ || (nopass && candidate_->refused != login_->refused);
  nopass_ = nopass;
  if (nopass) login_ = std::move(candidate_);
  candidate_.reset();
  if (!changed) return;
  proxyLog()->info("the nodes' default user {} a password; clients that send no AUTH {}",
                   nopass_ ? "has no" : "has",
                   nopass_ ? "run as default" : "must log in (NOAUTH until they do)");
  changed_();
}

}  // namespace rhp::proxy
