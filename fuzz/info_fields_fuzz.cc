// libFuzzer target: INFO text as a node (or something posing as one) sends
// it; the fields the replica watcher reads.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "health/info_fields.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view info(reinterpret_cast<const char*>(data), size);
  for (const std::string_view key :
       {"role", "master_host", "master_port", "master_link_status", "master_sync_in_progress",
        "slave_repl_offset", "master_repl_offset", ""}) {
    const std::string_view value = rhp::health::infoField(info, key);
    // A view into the text, never past it.
    if (!value.empty() &&
        (value.data() < info.data() || value.data() + value.size() > info.data() + info.size())) {
      __builtin_trap();
    }
    (void)rhp::health::infoNumber(value);
  }
  return 0;
}
