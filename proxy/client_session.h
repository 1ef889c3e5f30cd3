#pragma once

#include <uv.h>

#include <deque>
#include <string>
#include <string_view>

#include "net/uv_handle.h"
#include "proxy/local_commands.h"
#include "proxy/request.h"
#include "proxy/request_parser.h"

namespace rhp::proxy {

class Worker;

/* One client connection: parses its requests, asks the router where each
 * goes, and writes replies back in request order whatever order they are
 * answered in. Lives on one worker's loop. */
class ClientSession {
 public:
  ClientSession(Worker& worker, net::UvHandle<uv_tcp_t> tcp);
  ~ClientSession();
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  void start();
  void close();

  /* A backend (or the hold queue) answered the request that owns `slot`. */
  void complete(Slot& slot, std::string_view reply);

  /* Writes the replies that are ready; called once per loop turn. */
  void flush();

 private:
  void startReading();
  void onRead(ssize_t nread, const uv_buf_t* buf);
  std::size_t process(std::string_view in);
  void handleRequest(std::string_view request_bytes);
  void answerNow(std::string_view reply, bool close_after = false);
  void takeReady();
  void scheduleFlush();
  void onWritten();
  void stopReading();

  Worker& worker_;
  net::UvHandle<uv_tcp_t> tcp_;
  RequestParser parser_;
  ClientState state_;
  std::string input_;       // bytes of a request that has not fully arrived
  std::deque<Slot> slots_;  // requests awaiting their reply, in order
  std::string output_;      // replies ready to write
  bool flush_scheduled_ = false;
  bool reading_ = false;
  bool paused_for_backlog_ = false;
  bool input_closed_ = false;  // QUIT or protocol error: no more requests
  bool close_after_output_ = false;
  bool closed_ = false;
};

}  // namespace rhp::proxy
