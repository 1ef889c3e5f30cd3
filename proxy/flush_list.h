#pragma once

#include <algorithm>
#include <vector>

namespace rhp::proxy {

/* Objects with bytes to write this loop turn. The worker drains the list
 * once per turn (uv_check), so many clients' requests leave in one write
 * per backend connection and many replies in one write per client. */
template <class T>
class FlushList {
 public:
  void add(T* item) { items_.push_back(item); }
  void remove(T* item) { std::erase(items_, item); }
  bool empty() const { return items_.empty(); }
  template <class Fn>
  void drain(Fn&& flush) {
    // Flushing may schedule more work (a reply completes a slot); take the
    // list first so additions land in the next round.
    while (!items_.empty()) {
      auto batch = std::exchange(items_, {});
      for (T* item : batch) flush(item);
      spare_ = std::move(batch);
    }
  }

 private:
  std::vector<T*> items_;
  std::vector<T*> spare_;
};

}  // namespace rhp::proxy
