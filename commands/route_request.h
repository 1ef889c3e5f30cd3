#pragma once

#include <cstddef>
#include <string_view>

namespace rhp::commands {

/* Reads argument i of the request being routed; the bytes stay in the
 * client's buffer, so routing copies nothing. */
struct ArgAccess {
  const void* context = nullptr;
  std::string_view (*read)(const void* context, std::size_t index) = nullptr;
  std::string_view operator[](std::size_t index) const { return read(context, index); }
};

/* What routing reads of a parsed request: plain values, no sockets. */
struct RouteRequest {
  std::string_view name;        // as the client sent it, any case
  std::string_view subcommand;  // second argument or empty
  std::size_t argc = 0;         // including the name
  ArgAccess args;               // all arguments, for the few commands that need them
};

}  // namespace rhp::commands
