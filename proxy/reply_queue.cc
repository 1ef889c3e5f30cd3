#include "proxy/reply_queue.h"

#include <algorithm>

namespace rhp::proxy {

bool ReplyQueue::answer(std::string_view reply, bool close_after) {
  if (slots_.empty()) {
    output_.append(reply);
    return close_after;
  }
  Slot& slot = slots_.emplace_back();
  hold(slot, reply);
  slot.ready = true;
  slot.close_after = close_after;
  return false;
}

void ReplyQueue::push(std::string_view frame) {
  // Right behind the last reply a backend gave that still waits here (an
  // earlier slot is a local answer held back: a wrong AUTH's delay): Redis
  // wrote the push after it. Otherwise at once: the replies still owed
  // come after it, and a blocked BLPOP does not hold it.
  for (auto slot = slots_.rbegin(); slot != slots_.rend(); ++slot) {
    if (slot->ready && slot->filled) {
      hold(*slot, frame);
      return;
    }
  }
  output_.append(frame);
}

bool ReplyQueue::fill(Slot& slot, std::string_view reply) {
  if (&slot == &slots_.front()) {
    output_.append(reply);
    slots_.pop_front();
    return takeReady();
  }
  hold(slot, reply);
  slot.ready = true;
  slot.filled = true;
  return false;
}

void ReplyQueue::hold(Slot& slot, std::string_view bytes) {
  slot.reply.append(bytes);
  held_bytes_ += bytes.size();
}

void ReplyQueue::release(Slot& slot) {
  output_.append(slot.reply);
  held_bytes_ -= slot.reply.size();
  slot.reply.clear();
}

bool ReplyQueue::takeReady() {
  while (!slots_.empty()) {
    Slot& front = slots_.front();
    if (front.streaming) {
      // Frames of a pub/sub episode go out as they come once it is first.
      release(front);
      if (!front.ready) break;
      slots_.pop_front();
      continue;
    }
    if (!front.ready) break;
    release(front);
    const bool close_after = front.close_after;
    slots_.pop_front();
    if (close_after) return true;
  }
  return false;
}

ReplyQueue::Stream& ReplyQueue::openStream() {
  Slot& slot = slots_.emplace_back();
  slot.streaming = true;
  return streams_.emplace_back(Stream{&slot});
}

void ReplyQueue::streamFrame(std::string_view frame) {
  Slot& slot = *streams_.front().slot;
  if (&slot == &slots_.front()) {
    output_.append(frame);
  } else {
    hold(slot, frame);
  }
}

void ReplyQueue::finishStreams() {
  while (!streams_.empty() && streams_.front().closed &&
         streams_.front().frames_seen >= streams_.front().frames_total) {
    streams_.front().slot->ready = true;
    streams_.pop_front();
  }
}

bool ReplyQueue::onlyStreams() const {
  return std::all_of(slots_.begin(), slots_.end(), [](const Slot& slot) { return slot.streaming; });
}

void ReplyQueue::clear() {
  for (auto& slot : slots_) {
    if (slot.request != nullptr) {
      slot.request->reply_to.cancel();
    }
  }
  streams_.clear();
  slots_.clear();
}

}  // namespace rhp::proxy
