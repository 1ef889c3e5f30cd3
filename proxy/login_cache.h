#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/backend_login.h"

namespace rhp::proxy {

/* Passthrough logins (proxy.auth = "passthrough") the nodes accepted
 * recently, so that an AUTH repeated within proxy.auth_cache_ms is not
 * asked again: after a failover every client of a fleet reconnects and
 * logs in at once. Kept as SHA-256 over a per-worker random salt, the name
 * and the password: the cache holds no password. The login a hit returns
 * is the one the user's sessions already share while any is alive (their
 * requests then find the same connections), else a new one.
 *
 * Revocation: a password changed or a user removed on the nodes stops new
 * logins after at most proxy.auth_cache_ms; sessions already logged in
 * stay, as they do on Redis (ACL DELUSER closes a node's connections of
 * the user; the proxy's then log in again, are refused, and the user's
 * requests get the node's error). */
class LoginCache {
 public:
  LoginCache();

  /* The login for `name` and `password` if accepted within `ttl_ms`. */
  BackendLoginPtr find(std::string_view name, std::string_view password, std::uint64_t now_ms,
                       std::uint64_t ttl_ms);
  /* The nodes accepted it now. */
  void remember(const BackendLoginPtr& login, std::uint64_t now_ms);

 private:
  using Hash = std::array<std::uint8_t, 32>;
  struct Entry {
    Hash hash;
    std::uint64_t accepted_ms;
    std::weak_ptr<const BackendLogin> login;
    std::vector<std::string> refused;  // BackendLogin::refused, for a new login
  };
  Hash hash(std::string_view name, std::string_view password) const;

  std::array<std::uint8_t, 16> salt_{};
  std::vector<Entry> entries_;
};

}  // namespace rhp::proxy
