#pragma once

#include <netdb.h>
#include <uv.h>

#include <cstdint>
#include <functional>
#include <string>

namespace rhp::net {

/* An outgoing connect in progress, with the name lookup it may need first.
 *
 * A host that is an IP literal (what Sentinel reports unless
 * announce-hostnames is on) connects at once. A name is looked up with
 * uv_getaddrinfo, which runs getaddrinfo on libuv's thread pool: the loop
 * goes on while DNS answers, which with glibc's defaults (timeout:5,
 * attempts:2) is up to 10 s per server when DNS is silent. Before this, one
 * announced name stalled the control loop, and so failover handling, that long.
 *
 * libuv owns each request (the lookup, then the connect) until its callback
 * has run, which may be after the owner is gone (a closed handle completes
 * its connect with UV_ECANCELED; a lookup that has started cannot be
 * stopped), so the owner never frees it: it calls cancel(), after which the
 * callbacks run but reach no one, and the object frees itself in the last
 * one. */
class PendingConnect {
 public:
  using Callback = std::function<void(int status)>;

  /* Starts connecting `tcp` to host:port (port in host order). Returns
   * nullptr and sets `error` when libuv refuses at once; `done` is then never
   * called. A failed lookup reaches `done` as a UV_EAI_* status. */
  static PendingConnect* start(uv_tcp_t* tcp, const std::string& host, std::uint16_t port,
                               Callback done, int& error);

  /* `done` will not be called. Call before closing `tcp`: once cancelled,
   * a lookup that finishes never touches it. A lookup still queued for the
   * thread pool is dropped at once. */
  void cancel();

 private:
  PendingConnect(uv_tcp_t* tcp, std::uint16_t port, Callback done)
      : tcp_(tcp), port_(port), done_(std::move(done)) {}

  int connectTo(const sockaddr* address);
  void onResolved(int status, addrinfo* found);

  uv_tcp_t* tcp_;
  std::uint16_t port_;
  Callback done_;
  bool looking_up_ = false;
  uv_getaddrinfo_t lookup_{};
  uv_connect_t request_{};
};

}  // namespace rhp::net
