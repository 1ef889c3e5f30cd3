#include "proxy/http_request.h"

#include <algorithm>
#include <cctype>

namespace rhp::proxy {

HttpRequest parseHttpRequest(std::string_view received, std::size_t max_header_bytes) {
  HttpRequest request;
  const std::size_t end = received.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (received.size() > max_header_bytes) request.status = HttpRequest::Status::Malformed;
    return request;
  }
  request.status = HttpRequest::Status::Malformed;
  if (end > max_header_bytes) return request;
  const std::string_view line = received.substr(0, received.find("\r\n"));
  // METHOD SP request-target SP HTTP/1.x
  const std::size_t first = line.find(' ');
  const std::size_t second = first == std::string_view::npos ? first : line.find(' ', first + 1);
  if (first == 0 || second == std::string_view::npos || line.find(' ', second + 1) != line.npos) {
    return request;
  }
  const std::string_view method = line.substr(0, first);
  const std::string_view target = line.substr(first + 1, second - first - 1);
  const std::string_view version = line.substr(second + 1);
  const bool method_ok = std::all_of(method.begin(), method.end(),
                                     [](unsigned char c) { return std::isupper(c) != 0; });
  if (!method_ok || target.empty() || target[0] != '/' ||
      (version != "HTTP/1.1" && version != "HTTP/1.0")) {
    return request;
  }
  // Header lines: only Authorization is read. Names are case-insensitive
  // (RFC 9110); the value loses the optional whitespace around it.
  std::size_t at = line.size() + 2;
  while (at < end) {
    const std::size_t stop = std::min(received.find("\r\n", at), end);
    const std::string_view header = received.substr(at, stop - at);
    at = stop + 2;
    const std::size_t colon = header.find(':');
    if (colon == std::string_view::npos || colon == 0) return request;
    constexpr std::string_view kName = "authorization";
    const std::string_view name = header.substr(0, colon);
    const bool is_authorization =
        name.size() == kName.size() &&
        std::equal(name.begin(), name.end(), kName.begin(),
                   [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
    if (!is_authorization) continue;
    std::string_view value = header.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    request.authorization = std::string(value);
  }
  request.status = HttpRequest::Status::Complete;
  request.method = std::string(method);
  request.path = std::string(target.substr(0, target.find('?')));
  return request;
}

}  // namespace rhp::proxy
