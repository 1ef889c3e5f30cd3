#pragma once

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <memory>
#include <string>

namespace rhp::test {

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

/* `wire` (one whole reply, as a server writes it) read by hiredis, as the
 * control plane reads what Redis and Sentinel answer. */
inline ReplyPtr parseReply(const std::string& wire) {
  std::unique_ptr<redisReader, void (*)(redisReader*)> reader(redisReaderCreate(), redisReaderFree);
  redisReaderFeed(reader.get(), wire.data(), wire.size());
  void* reply = nullptr;
  EXPECT_EQ(redisReaderGetReply(reader.get(), &reply), REDIS_OK);
  return ReplyPtr(static_cast<redisReply*>(reply));
}

}  // namespace rhp::test
