// libFuzzer target: the client request parser. The same bytes parsed whole
// and split at a point the input chooses must give the same requests and
// the same error: the parser keeps its place across reads.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/request_parser.h"

namespace {

struct Parsed {
  std::vector<std::vector<std::string>> requests;
  std::string error;
  bool operator==(const Parsed&) const = default;
};

/* Parses `wire` arriving in two reads, cut at `cut`, as the client session
 * does: it keeps the unfinished request's bytes and passes them again. */
Parsed parse(std::string_view wire, std::size_t cut) {
  // Small limits so mutations reach them.
  rhp::proxy::RequestParser parser({.max_bulk_len = 4096, .max_array_len = 64});
  Parsed out;
  std::string pending;
  for (const std::string_view piece : {wire.substr(0, cut), wire.substr(cut)}) {
    pending.append(piece);
    while (!pending.empty()) {
      const auto result = parser.parse(pending);
      if (result == rhp::proxy::RequestParser::Result::NeedMore) break;
      if (result == rhp::proxy::RequestParser::Result::ProtocolError) {
        out.error = std::string(parser.error());
        return out;
      }
      std::vector<std::string> args;
      for (std::size_t i = 0; i < parser.argc(); ++i) args.emplace_back(parser.arg(pending, i));
      out.requests.push_back(std::move(args));
      pending.erase(0, parser.frameLength());
      parser.reset();
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view wire(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t cut = wire.empty() ? 0 : data[0] % (wire.size() + 1);
  const Parsed whole = parse(wire, wire.size());
  if (!(parse(wire, cut) == whole)) __builtin_trap();
  return 0;
}
