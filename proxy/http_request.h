#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace rhp::proxy {

/* The little of HTTP/1.x the admin endpoint needs: the request line of a
 * request whose headers have fully arrived. Bodies are not read (GET and
 * HEAD have none; anything else is answered 405 and the connection closed). */
struct HttpRequest {
  enum class Status { NeedMore, Complete, Malformed };
  Status status = Status::NeedMore;
  std::string method;
  std::string path;  // without the query string
  /* The Authorization header's value ("Bearer <token>"), if sent. */
  std::string authorization;
};

/* Parses what arrived so far; more than `max_header_bytes` without the
 * blank line that ends the headers is Malformed. */
HttpRequest parseHttpRequest(std::string_view received, std::size_t max_header_bytes = 8192);

}  // namespace rhp::proxy
