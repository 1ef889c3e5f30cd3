#include "proxy/request_pool.h"

#include <utility>

namespace rhp::proxy {

void RequestDeleter::operator()(Request* request) const {
  std::unique_ptr<Request> owned(request);
  if (pool != nullptr) pool->recycle(std::move(owned));
}

RequestPtr newRequest() {
  return RequestPtr(std::make_unique<Request>().release(), RequestDeleter{});
}

RequestPtr RequestPool::acquire() {
  if (spare_.empty())
    return RequestPtr(std::make_unique<Request>().release(), RequestDeleter{this});
  std::unique_ptr<Request> request = std::move(spare_.back());
  spare_.pop_back();
  return RequestPtr(request.release(), RequestDeleter{this});
}

void RequestPool::recycle(std::unique_ptr<Request> request) {
  if (spare_.size() >= kMaxSpare) return;
  std::string payload = std::move(request->payload);
  *request = Request{};
  if (payload.capacity() <= kMaxKeptPayload) {
    payload.clear();
    request->payload = std::move(payload);
  }
  spare_.push_back(std::move(request));
}

}  // namespace rhp::proxy
