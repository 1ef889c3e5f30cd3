#include "proxy/resume_timeout.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "commands/resp_array.h"
#include "proxy/request_parser.h"

namespace rhp::proxy {

void resumeTimeout(Request& request, std::uint64_t now_ms) {
  if (request.timeout_arg == 0 || request.timeout_ms == 0) return;
  if (request.blocked_since_ms == 0) {
    request.blocked_since_ms = std::max<std::uint64_t>(now_ms, 1);
    return;
  }
  const std::uint64_t waited = now_ms - std::min(now_ms, request.blocked_since_ms);
  const std::uint64_t left = request.timeout_ms > waited ? request.timeout_ms - waited : 1;
  RequestParser parser(ParserLimits{std::numeric_limits<std::uint64_t>::max(),
                                    std::numeric_limits<std::uint32_t>::max()});
  if (parser.parse(request.payload) != RequestParser::Result::Complete ||
      request.timeout_arg >= parser.argc()) {
    return;
  }
  const std::string value = request.timeout_millis
                                ? std::to_string(left)
                                : fmt::format("{}.{:03}", left / 1000, left % 1000);
  std::string payload;
  commands::appendRespHeader(payload, '*', parser.argc());
  for (std::size_t i = 0; i < parser.argc(); ++i) {
    commands::appendBulk(payload,
                         i == request.timeout_arg ? value : parser.arg(request.payload, i));
  }
  request.payload = std::move(payload);
}

}  // namespace rhp::proxy
