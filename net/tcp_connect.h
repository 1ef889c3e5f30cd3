#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <functional>

namespace rhp::net {

/* An outgoing connect in progress. libuv owns the request until its callback
 * has run, which may be after the owner is gone (a closed handle completes
 * its connect with UV_ECANCELED), so the owner never frees it: it calls
 * cancel(), after which the callback runs but reaches no one. */
class PendingConnect {
 public:
  using Callback = std::function<void(int status)>;

  /* Starts connecting `tcp` to `address`. Returns nullptr and sets `error`
   * when libuv refuses at once; `done` is then never called. */
  static PendingConnect* start(uv_tcp_t* tcp, const sockaddr_storage& address, Callback done,
                               int& error);

  void cancel() { done_ = nullptr; }

 private:
  explicit PendingConnect(Callback done) : done_(std::move(done)) {}

  uv_connect_t request_{};
  Callback done_;
};

}  // namespace rhp::net
