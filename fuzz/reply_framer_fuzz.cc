// libFuzzer target: the backend reply framer. Framing must not depend on
// how the stream is split, frames must be the stream's own bytes in order,
// and a corrupt stream must stay corrupt however it arrives.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/reply_framer.h"

namespace {

struct Framed {
  std::vector<std::string> frames;
  std::vector<bool> errors;
  bool corrupt = false;
  bool operator==(const Framed&) const = default;
};

Framed frame(std::string_view wire, std::size_t chunk) {
  rhp::proxy::ReplyFramer framer;
  Framed out;
  for (std::size_t from = 0; from < wire.size(); from += chunk) {
    framer.feed(wire.substr(from, chunk));
    std::string_view bytes;
    bool is_error = false;
    while (true) {
      const auto result = framer.next(bytes, is_error);
      if (result == rhp::proxy::ReplyFramer::Result::NeedMore) break;
      if (result == rhp::proxy::ReplyFramer::Result::Corrupt) {
        out.corrupt = true;
        return out;
      }
      out.frames.emplace_back(bytes);
      out.errors.push_back(is_error);
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view wire(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Framed whole = frame(wire, wire.size() + 1);
  std::string joined;
  for (const auto& bytes : whole.frames) joined += bytes;
  if (wire.substr(0, joined.size()) != joined) __builtin_trap();
  const std::size_t chunk = 1 + data[0] % 16;
  if (!(frame(wire, chunk) == whole)) __builtin_trap();
  return 0;
}
