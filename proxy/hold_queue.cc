#include "proxy/hold_queue.h"

namespace rhp::proxy {

bool HoldQueue::hold(RequestPtr& request, std::uint64_t now_ms) {
  if (hold_ms_ == 0 || bytes_ + request->payload.size() > max_bytes_) return false;
  if (request->held_at_ms == 0) request->held_at_ms = now_ms;
  bytes_ += request->payload.size();
  count(*request);
  queue_.push_back(std::move(request));
  return true;
}

void HoldQueue::holdAtFront(std::vector<RequestPtr> requests, std::uint64_t now_ms) {
  // These were accepted once already; the byte bound does not apply again,
  // or a request could be dropped for having been in flight.
  auto position = queue_.begin() + static_cast<std::ptrdiff_t>(requeued_);
  for (auto& request : requests) {
    if (request->held_at_ms == 0) request->held_at_ms = now_ms;
    bytes_ += request->payload.size();
    count(*request);
    position = queue_.insert(position, std::move(request)) + 1;
    ++requeued_;
  }
}

RequestPtr HoldQueue::pop() {
  RequestPtr request = std::move(queue_.front());
  queue_.pop_front();
  if (requeued_ > 0) --requeued_;
  bytes_ -= request->payload.size();
  uncount(*request);
  return request;
}

void HoldQueue::count(Request& request) {
  request.held_for = request.reply_to.sink;
  if (request.held_for != nullptr) ++held_by_[request.held_for];
}

void HoldQueue::uncount(Request& request) {
  if (request.held_for == nullptr) return;
  const auto entry = held_by_.find(request.held_for);
  if (entry != held_by_.end() && --entry->second == 0) held_by_.erase(entry);
  request.held_for = nullptr;
}

}  // namespace rhp::proxy
