#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>

#include "proxy/request.h"

namespace rhp::proxy {

/* A client's replies in the order of its requests, as one Redis connection
 * gives them, whatever order the backends answer in. Each request takes a
 * slot; a reply that arrives before an earlier one waits in its slot, and
 * replies whose turn came collect in output() for the socket.
 *
 * A pub/sub episode (from the first SUBSCRIBE until no subscription is
 * left) has a stream slot instead: its frames, messages and replies alike,
 * pass through in arrival order once it is first, and it is done when its
 * last reply frame arrived. */
class ReplyQueue {
 public:
  /* A stream slot's progress: reply frames seen, and how many there are
   * (known once the episode closed). */
  struct Stream {
    Slot* slot;
    std::size_t frames_seen = 0;
    std::size_t frames_total = 0;
    bool closed = false;
  };

  /* The slot of the next request. */
  Slot& add() { return slots_.emplace_back(); }
  /* A reply that needs no backend, after every earlier one; `close_after`
   * closes the client once it is written. True when it went to output() at
   * once and closes the client. */
  bool answer(std::string_view reply, bool close_after);
  /* `slot`'s reply arrived. True once a reply that closes the client was
   * moved to output(). */
  bool fill(Slot& slot, std::string_view reply);
  /* A RESP3 push: Redis wrote it after the replies already in and before
   * the ones still owed. It goes out right behind the last backend reply
   * still waiting in the queue, or at once: an invalidation neither
   * overtakes the read it invalidates nor waits for a blocked command. */
  void push(std::string_view frame);
  /* A reply (or frames) waiting in its slot behind an earlier one. */
  void hold(Slot& slot, std::string_view bytes);
  /* Moves the replies whose turn came to output(). True once a reply that
   * closes the client was moved (nothing after it is). */
  bool takeReady();

  /* Opens the stream slot of a new pub/sub episode. */
  Stream& openStream();
  bool streaming() const { return !streams_.empty(); }
  /* The episode being sent (oldest) and the one requests join (newest). */
  Stream& oldestStream() { return streams_.front(); }
  Stream& newestStream() { return streams_.back(); }
  std::size_t streamCount() const { return streams_.size(); }
  /* A frame of the oldest episode. */
  void streamFrame(std::string_view frame);
  /* Episodes whose last reply frame arrived are done; their slots close. */
  void finishStreams();

  std::string& output() { return output_; }
  const std::string& output() const { return output_; }
  /* Bytes in slots behind an unanswered one. */
  std::size_t heldBytes() const { return held_bytes_; }
  /* Requests awaiting a reply (stream slots await none). */
  std::size_t awaiting() const { return slots_.size() - std::min(slots_.size(), streams_.size()); }
  bool empty() const { return slots_.empty(); }
  /* Nothing owed but pub/sub streams (a subscriber only waits for messages). */
  bool onlyStreams() const;
  /* The only slot owed is one episode's stream. */
  bool onlyOneStream() const {
    return !slots_.empty() && slots_.front().streaming && streams_.size() == 1;
  }
  /* The client left: requests still out there no longer find their slot. */
  void clear();

 private:
  /* The slot's held bytes move to output_. */
  void release(Slot& slot);

  /* Requests awaiting their reply, in order. A deque keeps each element
   * where it is while slots are added at the back and taken from the
   * front, so a request's ReplyTo may point at its slot until clear(). */
  std::deque<Slot> slots_;
  std::deque<Stream> streams_;  // open stream slots, oldest receives frames
  std::string output_;          // replies ready to write
  std::size_t held_bytes_ = 0;
};

}  // namespace rhp::proxy
