#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "proxy/request.h"

namespace rhp::proxy {

/* One worker's spare Request objects, kept with their payload capacity.
 * Without it every forwarded request cost two heap allocations and frees
 * (the object and its payload), the largest item in a perf profile of a
 * pipelined load after the system calls. Loop thread only. It must outlive
 * every request it handed out: the worker declares it before anything that
 * holds requests. */
class RequestPool {
 public:
  RequestPool() = default;
  RequestPool(const RequestPool&) = delete;
  RequestPool& operator=(const RequestPool&) = delete;

  RequestPtr acquire();
  /* From RequestDeleter: resets the request and keeps it, unless the pool
   * is full; a large payload's buffer is freed rather than kept. */
  void recycle(std::unique_ptr<Request> request);

  std::size_t spare() const { return spare_.size(); }

  // At most about 1 MiB kept per worker; past it requests are allocated as before.
  static constexpr std::size_t kMaxSpare = 1024;
  static constexpr std::size_t kMaxKeptPayload = 1024;  // bytes of capacity

 private:
  std::vector<std::unique_ptr<Request>> spare_;
};

}  // namespace rhp::proxy
