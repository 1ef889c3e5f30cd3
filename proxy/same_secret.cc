#include "proxy/same_secret.h"

#include <cstddef>

namespace rhp::proxy {

bool sameSecret(std::string_view given, std::string_view secret) {
  unsigned diff = given.size() == secret.size() ? 0u : 1u;
  for (std::size_t i = 0; i < given.size(); ++i) {
    const char expected = secret.empty() ? '\0' : secret[i % secret.size()];
    diff |= static_cast<unsigned char>(given[i] ^ expected);
  }
  return diff == 0;
}

}  // namespace rhp::proxy
