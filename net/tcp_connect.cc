#include "net/tcp_connect.h"

#include <memory>

namespace rhp::net {

PendingConnect* PendingConnect::start(uv_tcp_t* tcp, const sockaddr_storage& address, Callback done,
                                      int& error) {
  std::unique_ptr<PendingConnect> pending(new PendingConnect(std::move(done)));
  pending->request_.data = pending.get();
  error = uv_tcp_connect(
      &pending->request_, tcp, reinterpret_cast<const sockaddr*>(&address),
      [](uv_connect_t* request, int status) {
        std::unique_ptr<PendingConnect> finished(static_cast<PendingConnect*>(request->data));
        if (finished->done_) finished->done_(status);
      });
  if (error != 0) return nullptr;
  return pending.release();
}

}  // namespace rhp::net
