// libFuzzer target: the admin endpoint's HTTP request parser. A request
// complete in a prefix of the bytes is the same request in all of them.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "proxy/http_request.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view received(reinterpret_cast<const char*>(data) + 1, size - 1);
  using Status = rhp::proxy::HttpRequest::Status;
  const auto whole = rhp::proxy::parseHttpRequest(received, 512);
  const auto prefix =
      rhp::proxy::parseHttpRequest(received.substr(0, data[0] % (received.size() + 1)), 512);
  if (prefix.status == Status::Complete &&
      (whole.status != Status::Complete || whole.method != prefix.method ||
       whole.path != prefix.path)) {
    __builtin_trap();
  }
  return 0;
}
