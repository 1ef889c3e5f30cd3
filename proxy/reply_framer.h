#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace rhp::proxy {

/* Finds reply boundaries in a backend's byte stream, RESP2 and RESP3, and
 * hands out each reply's original bytes. It builds no reply objects and does
 * not recurse: nesting costs nothing but a count, so any reply Redis can
 * produce passes (depth 1,000 and 100,000-element arrays are tested; the
 * hiredis reader it replaces stopped at depth 9 and dropped the shared link).
 *
 * The framer owns the read buffer: the socket reads straight into
 * prepare() and each frame is a view of those bytes, so a reply is copied
 * once, into the client's output.
 *
 * Framing needs only how many values the reply still owes: a value header
 * settles one and an aggregate of n adds its n elements (2n for a map),
 * whatever their depth. An attribute ('|') adds its 2n values before the
 * value it annotates and is part of that value's frame. */
class ReplyFramer {
 public:
  enum class Result { Frame, NeedMore, Corrupt };

  /* Room for at least `min` more bytes at the end of the buffer; pass how
   * many arrived to commit(). Views from next() are invalid after this. */
  std::span<char> prepare(std::size_t min);
  void commit(std::size_t bytes);
  /* prepare + copy + commit, for tests and fuzzers. */
  void feed(std::string_view chunk);

  /* Takes the next complete reply. On Frame, `frame` views its bytes, valid
   * until the next prepare() or feed(); `is_error` tells an error reply
   * ('-' or '!'). Each byte is examined once however the stream is split. */
  Result next(std::string_view& frame, bool& is_error);

  /* The type byte of the last frame's value, after any attributes: '>' is
   * a RESP3 push, '-' an error, ... */
  char kind() const { return kind_; }

  /* Bytes received that belong to no complete reply yet. */
  std::size_t pendingBytes() const { return end_ - consumed_; }

 private:
  enum class State { Header, BulkBody };

  Result header();
  void settle() { --owed_; }

  std::vector<char> buffer_;
  std::size_t end_ = 0;        // bytes of buffer_ holding data
  std::size_t consumed_ = 0;   // handed out as frames; the current reply starts here
  std::size_t pos_ = 0;        // next byte of the current reply to parse
  std::size_t line_from_ = 0;  // where the search for the header's CRLF resumes
  std::size_t body_end_ = 0;   // State::BulkBody: end of the body and its CRLF
  std::uint64_t owed_ = 0;     // values the current reply still owes; 0 between replies
  State state_ = State::Header;
  char top_ = 0;  // the current reply's own type, once its header is read
  char kind_ = 0;
};

}  // namespace rhp::proxy
