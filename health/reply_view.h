#pragma once

#include <hiredis/hiredis.h>

#include <string_view>

namespace rhp::health {

/* A hiredis string or status reply's bytes, without a copy. */
inline std::string_view view(const redisReply* reply) {
  return {reply->str, reply->len};
}

inline bool isString(const redisReply* reply) {
  return reply != nullptr &&
         (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS);
}

}  // namespace rhp::health
