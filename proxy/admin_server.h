#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "config/address.h"
#include "config/config.h"
#include "net/uv_handle.h"

namespace rhp::proxy {

/* The admin HTTP endpoint (/metrics, /healthz, /readyz) on the control
 * thread's loop, so a slow scraper never delays a worker. One request per
 * connection: every answer carries "Connection: close". Holding connections
 * costs an attacker something: admin.max_connections at once (a new one
 * closes the oldest still waiting for its request), admin.request_timeout_ms
 * for the whole exchange, and admin.token when set. */
class AdminServer {
 public:
  struct Response {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
  };
  /* Called for each GET/HEAD with the path (query string removed). */
  using Handler = std::function<Response(const std::string& path)>;

  AdminServer(uv_loop_t* loop, Handler handler, const config::Config::Admin& settings);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  /* Binds and listens; throws std::runtime_error naming the address. */
  void listen(const config::Address& address);
  /* The port bound (the one asked for, or the kernel's pick for port 0). */
  std::uint16_t port() const { return port_; }
  /* Stops accepting and closes every connection. */
  void stop();

 private:
  struct Connection;
  void onAccept(int status);
  void onRead(Connection& connection, ssize_t nread, const uv_buf_t* buf);
  void answer(Connection& connection, int status, const std::string& content_type,
              const std::string& body, bool head);
  void drop(Connection& connection);
  /* Closes connections past admin.request_timeout_ms. */
  void sweep();
  /* At admin.max_connections: closes the oldest connection still waiting
   * for its request (or the oldest at all); false if none is open. */
  bool makeRoom();

  uv_loop_t* loop_;
  Handler handler_;
  config::Config::Admin settings_;
  net::UvHandle<uv_tcp_t> listener_;
  net::UvHandle<uv_timer_t> sweeper_;
  std::uint64_t accepted_ = 0;  // connections accepted so far
  bool at_cap_ = false;         // this episode of being full was logged
  std::uint16_t port_ = 0;
  std::unordered_map<Connection*, std::unique_ptr<Connection>> connections_;
};

}  // namespace rhp::proxy
