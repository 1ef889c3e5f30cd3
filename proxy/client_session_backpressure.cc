// The memory bounds of ClientSession (declared in client_session.h):
// proxy.client_output_backlog stops reading a client's requests while it
// owes too much, and every change of what the client holds is reported to
// the worker for proxy.maxmemory_clients.
#include <algorithm>

#include "proxy/client_session.h"

namespace rhp::proxy {

namespace {

/* How many requests of one client may await replies: 16 before the first
 * reply shows their size, then as many as replies of the recent size fit in
 * proxy.client_output_backlog, at most 256. Replies already asked for cannot
 * be refused (they come on shared connections), so a client holds at most
 * the backlog plus a window of replies: 16 + 16 MiB for the 1,000 x 1 MiB
 * GET pipeline instead of 1 GB. 256 in flight already fill a loop turn for
 * small replies; a client whose small replies turn big at once can reach
 * 256 of them, which proxy.maxmemory_clients is there to catch. */
constexpr std::size_t kInitialWindow = 16;
constexpr std::size_t kMaxWindow = 256;
}  // namespace

std::size_t ClientSession::unsentBytes() const {
  return queue_.output().size() + stream_.queuedBytes() + queue_.heldBytes();
}

std::size_t ClientSession::memoryUsage() const {
  const std::string& output = queue_.output();
  return input_.capacity() + output.capacity() + unsentBytes() - output.size() + request_bytes_;
}

std::size_t ClientSession::window() const {
  if (reply_estimate_ == 0) return kInitialWindow;
  const std::uint64_t backlog = host_.config().proxy.client_output_backlog;
  return static_cast<std::size_t>(
      std::clamp<std::uint64_t>(backlog / reply_estimate_, 1, kMaxWindow));
}

bool ClientSession::hasRoom() const {
  const std::uint64_t backlog = host_.config().proxy.client_output_backlog;
  if (backlog == 0) return true;
  // A pub/sub episode's slot awaits no reply; it must not use the window,
  // or a subscriber with a window of 1 could never send UNSUBSCRIBE.
  const std::size_t awaiting = queue_.awaiting();
  // One request always fits when nothing else is owed, however big: the
  // client must be able to make progress.
  if (awaiting == 0) return unsentBytes() + request_bytes_ < backlog;
  return unsentBytes() + request_bytes_ < backlog && awaiting < window();
}

void ClientSession::pauseForRoom() {
  if (!paused_for_room_) host_.metrics().clients_paused.add();
  paused_for_room_ = true;
  if (reading_) stream_.stopReading();
}

/* Called whenever the backlog may have shrunk (replies written, requests
 * answered): parses what already arrived, then reads the socket again. */
void ClientSession::resumeIfRoom() {
  if (!paused_for_room_ || closed_ || input_closed_ || !hasRoom()) return;
  paused_for_room_ = false;
  if (!input_.empty()) {
    parseBuffered();
    if (closed_) return;
  }
  if (!paused_for_room_ && reading_ && !input_closed_) startReading();
}

void ClientSession::account() {
  const std::size_t usage = closed_ ? 0 : memoryUsage();
  if (usage == reported_bytes_) return;
  host_.noteClientMemory(static_cast<std::int64_t>(usage) -
                         static_cast<std::int64_t>(reported_bytes_));
  reported_bytes_ = usage;
}

}  // namespace rhp::proxy
