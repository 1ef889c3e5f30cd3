// libFuzzer target: the TOML config loader. Any text is a config or a
// ConfigError listing its problems; nothing else may escape. Host names are
// checked, not looked up (as on a reload): asking DNS held the target to
// about 600 inputs a second and sent fuzzed names to the network.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    (void)rhp::config::loadConfigFromString(text, "fuzz.toml", {},
                                            rhp::config::HostNames::SyntaxOnly);
  } catch (const rhp::config::ConfigError&) {
  }
  return 0;
}
