#pragma once

#include <hiredis/read.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace rhp::proxy {

/* Finds reply boundaries in a backend's byte stream. The hiredis reader is
 * created without object functions, so it builds no reply objects: it only
 * tells us where each top-level reply ends. We keep the bytes of the reply
 * being framed ourselves and hand out the original bytes untouched. */
class ReplyFramer {
 public:
  enum class Result { Frame, NeedMore, Corrupt };

  ReplyFramer();

  /* Adds bytes read from the backend. */
  void feed(std::string_view chunk);

  /* Takes the next complete reply. On Frame, `frame` views its bytes, valid
   * until the next call to feed() or next(); `is_error` tells a '-' reply. */
  Result next(std::string_view& frame, bool& is_error);

  /* Bytes received that belong to no complete reply yet. */
  std::size_t pendingBytes() const { return buffer_.size() - consumed_; }

 private:
  struct ReaderDeleter {
    void operator()(redisReader* reader) const { redisReaderFree(reader); }
  };
  std::unique_ptr<redisReader, ReaderDeleter> reader_;
  std::string buffer_;        // bytes from the start of the oldest unconsumed reply
  std::size_t consumed_ = 0;  // of buffer_, already handed out
};

}  // namespace rhp::proxy
