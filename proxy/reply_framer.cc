#include "proxy/reply_framer.h"

#include <hiredis/hiredis.h>

#include <new>

namespace rhp::proxy {

ReplyFramer::ReplyFramer() : reader_(redisReaderCreateWithFunctions(nullptr)) {
  if (!reader_) throw std::bad_alloc();
  // Redis replies can be as large as proto-max-bulk-len; the default 16 KiB
  // maxbuf only tells hiredis when to shrink its idle buffer, which is fine.
}

void ReplyFramer::feed(std::string_view chunk) {
  if (consumed_ > 0 && consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  } else if (consumed_ > 64 * 1024 && consumed_ * 2 > buffer_.size()) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  buffer_.append(chunk);
  redisReaderFeed(reader_.get(), chunk.data(), chunk.size());
}

ReplyFramer::Result ReplyFramer::next(std::string_view& frame, bool& is_error) {
  void* reply = nullptr;
  if (redisReaderGetReply(reader_.get(), &reply) != REDIS_OK) return Result::Corrupt;
  if (reply == nullptr) return Result::NeedMore;
  // Without object functions hiredis hands back the reply type as the
  // "object"; the reader has consumed exactly the bytes of this reply, so
  // what it has not consumed yet is the tail of our buffer.
  const std::size_t unread = reader_->len - reader_->pos;
  const std::size_t end = buffer_.size() - unread;
  frame = std::string_view(buffer_).substr(consumed_, end - consumed_);
  is_error = reinterpret_cast<std::intptr_t>(reply) == REDIS_REPLY_ERROR;
  consumed_ = end;
  return Result::Frame;
}

}  // namespace rhp::proxy
