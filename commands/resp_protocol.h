#pragma once

#include <cstdint>
#include <string_view>

namespace rhp::commands {

/* The protocol a client speaks (HELLO 2 / HELLO 3), as Redis keeps it per
 * connection. Redis shapes each reply for the connection's protocol (maps,
 * doubles, pushes in RESP3), so a request travels on a backend connection
 * that speaks its client's protocol and the reply is forwarded untouched. */
enum class Resp : std::uint8_t { V2 = 2, V3 = 3 };

/* The null Redis writes in each protocol where a command has no value
 * (addReplyNull: CLIENT GETNAME with no name, a missing channel) and where
 * an aggregate is absent (addReplyNullArray: EXEC after a touched WATCH). */
constexpr std::string_view nullBulk(Resp resp) {
  return resp == Resp::V3 ? "_\r\n" : "$-1\r\n";
}
constexpr std::string_view nullArray(Resp resp) {
  return resp == Resp::V3 ? "_\r\n" : "*-1\r\n";
}
/* A pub/sub confirmation or message: an array in RESP2, a push in RESP3. */
constexpr char pubSubFrameType(Resp resp) {
  return resp == Resp::V3 ? '>' : '*';
}

}  // namespace rhp::commands
