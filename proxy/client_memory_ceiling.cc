#include "proxy/client_memory_ceiling.h"
#include "proxy/proxy_log.h"

#include <spdlog/spdlog.h>

namespace rhp::proxy {

bool ClientMemoryCeiling::publish() {
  const std::int64_t delta = memory_ - published_;
  if (delta == 0) return false;
  clients_.memory.fetch_add(delta);
  published_ = memory_;
  metrics_.client_memory_bytes.set(memory_);
  return delta > 0;
}

bool ClientMemoryCeiling::over(std::uint64_t ceiling) const {
  return ceiling > 0 && clients_.memory.load() > static_cast<std::int64_t>(ceiling);
}

std::pair<ClientSession*, std::size_t> ClientMemoryCeiling::publishLargest(
    const SessionMap& sessions) {
  ClientSession* largest = nullptr;
  std::size_t most = 0;
  for (const auto& [raw, session] : sessions) {
    const std::size_t usage = raw->memoryUsage();
    if (usage > most) {
      most = usage;
      largest = raw;
    }
  }
  clients_.largest[worker_].store(most);
  return {largest, most};
}

void ClientMemoryCeiling::enforce(std::uint64_t ceiling, const SessionMap& sessions) {
  if (!over(ceiling)) return;
  const auto [largest, most] = publishLargest(sessions);
  // Another worker holds a larger client: it closes that one when it next
  // looks (its tick, 50 ms), seeing the total still over.
  for (unsigned i = 0; i < clients_.largest.size(); ++i) {
    if (i != worker_ && clients_.largest[i].load() > most) return;
  }
  if (largest == nullptr) return;
  proxyLog()->warn(
      "evicting client: all clients hold {} bytes, over proxy.maxmemory_clients {}; this one "
      "holds {}",
      clients_.memory.load(), ceiling, most);
  metrics_.clients_evicted.add();
  largest->close();
  publish();
  publishLargest(sessions);
}

}  // namespace rhp::proxy
