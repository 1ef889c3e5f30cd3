#include "net/tcp_connect.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "net/socket_address.h"

namespace rhp::net {

namespace {

struct AddrinfoDeleter {
  void operator()(addrinfo* found) const { uv_freeaddrinfo(found); }
};

}  // namespace

PendingConnect* PendingConnect::start(uv_tcp_t* tcp, const std::string& host, std::uint16_t port,
                                      Callback done, int& error) {
  std::unique_ptr<PendingConnect> pending(new PendingConnect(tcp, port, std::move(done)));
  if (const auto numeric = numericAddress(host, port)) {
    error = pending->connectTo(reinterpret_cast<const sockaddr*>(&*numeric));
  } else {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    pending->lookup_.data = pending.get();
    error = uv_getaddrinfo(
        tcp->loop, &pending->lookup_,
        [](uv_getaddrinfo_t* lookup, int status, addrinfo* found) {
          static_cast<PendingConnect*>(lookup->data)->onResolved(status, found);
        },
        host.c_str(), nullptr, &hints);
    pending->looking_up_ = error == 0;
  }
  if (error != 0) return nullptr;
  return pending.release();
}

void PendingConnect::cancel() {
  done_ = nullptr;
  // Only a lookup still queued can be cancelled (UV_EBUSY otherwise); its
  // callback runs either way, with UV_EAI_CANCELED or the answer.
  if (looking_up_) uv_cancel(reinterpret_cast<uv_req_t*>(&lookup_));
}

int PendingConnect::connectTo(const sockaddr* address) {
  request_.data = this;
  return uv_tcp_connect(&request_, tcp_, address, [](uv_connect_t* request, int status) {
    std::unique_ptr<PendingConnect> finished(static_cast<PendingConnect*>(request->data));
    if (finished->done_) finished->done_(status);
  });
}

/* The lookup's callback owns this object until the connect takes it over. */
void PendingConnect::onResolved(int status, addrinfo* found) {
  std::unique_ptr<PendingConnect> self(this);
  const std::unique_ptr<addrinfo, AddrinfoDeleter> answer(found);
  looking_up_ = false;
  if (!done_) return;  // cancelled: `tcp_` may be closed already
  if (status == 0 && answer == nullptr) status = UV_EAI_NONAME;
  if (status == 0) {
    // The first answer, as getaddrinfo's caller did before (RFC 6724 order).
    sockaddr_storage address{};
    std::memcpy(&address, answer->ai_addr,
                std::min<std::size_t>(answer->ai_addrlen, sizeof(address)));
    setPort(address, port_);
    status = connectTo(reinterpret_cast<const sockaddr*>(&address));
    if (status == 0) {
      self.release();  // the connect request owns it now
      return;
    }
  }
  const Callback done = std::move(done_);
  done(status);
}

}  // namespace rhp::net
