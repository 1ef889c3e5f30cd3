#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace rhp::proxy {

/* Follows one client's pub/sub state the way redis-server will see it, from
 * the requests the client sends down its pub/sub connection: which
 * channels, patterns and shard channels it is subscribed to, and how many
 * reply frames each request produces (SUBSCRIBE a b answers twice, a bare
 * UNSUBSCRIBE once per channel). That is what lets the proxy keep replies in
 * order, leave pub/sub mode exactly when Redis does, and subscribe again on
 * a new master after a failover. */
class PubSubTracker {
 public:
  /* Records a request sent in pub/sub mode; returns the number of reply
   * frames (not counting messages) it will produce. `name` lower case. */
  std::size_t apply(std::string_view name, const std::vector<std::string_view>& arguments);

  /* Whether Redis keeps the connection in subscribed mode after every
   * request applied so far. */
  bool subscribed() const { return !channels_.empty() || !patterns_.empty() || !shards_.empty(); }

  /* A published message rather than a reply to a request, in either
   * protocol. */
  static bool isMessage(std::string_view frame);
  /* A frame that confirms a (un)subscription: in RESP2 any frame of a
   * subscribed connection that is not a message, in RESP3 a push named
   * after the command (messages and client-tracking pushes are not). */
  static bool isConfirmation(std::string_view frame);

  /* RESP commands that restore every subscription on a fresh connection,
   * and the number of confirmation frames they produce. */
  std::string resubscribeCommands(std::size_t& frames) const;

  void clear();

 private:
  std::set<std::string> channels_;
  std::set<std::string> patterns_;
  std::set<std::string> shards_;
};

}  // namespace rhp::proxy
