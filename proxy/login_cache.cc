#include "proxy/login_cache.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <stdexcept>

namespace rhp::proxy {

namespace {

/* Distinct logins remembered per worker: past it the oldest is forgotten
 * (a client cycling through names cannot grow it; 32 KiB of hashes). */
constexpr std::size_t kMaxEntries = 1024;

}  // namespace

LoginCache::LoginCache() {
  if (RAND_bytes(salt_.data(), static_cast<int>(salt_.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed: no salt for the login cache");
  }
}

LoginCache::Hash LoginCache::hash(std::string_view name, std::string_view password) const {
  Hash out{};
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  if (context == nullptr) throw std::bad_alloc();
  const std::uint8_t separator = 0;  // "ab"+"c" and "a"+"bc" differ
  unsigned length = 0;
  const bool ok = EVP_DigestInit_ex(context, EVP_sha256(), nullptr) == 1 &&
                  EVP_DigestUpdate(context, salt_.data(), salt_.size()) == 1 &&
                  EVP_DigestUpdate(context, name.data(), name.size()) == 1 &&
                  EVP_DigestUpdate(context, &separator, 1) == 1 &&
                  EVP_DigestUpdate(context, password.data(), password.size()) == 1 &&
                  EVP_DigestFinal_ex(context, out.data(), &length) == 1;
  EVP_MD_CTX_free(context);
  if (!ok) throw std::runtime_error("SHA-256 failed");
  return out;
}

BackendLoginPtr LoginCache::find(std::string_view name, std::string_view password,
                                 std::uint64_t now_ms, std::uint64_t ttl_ms) {
  if (ttl_ms == 0) return nullptr;
  const Hash wanted = hash(name, password);
  for (auto& entry : entries_) {
    if (CRYPTO_memcmp(entry.hash.data(), wanted.data(), wanted.size()) != 0) continue;
    if (now_ms - entry.accepted_ms >= ttl_ms) return nullptr;
    if (auto login = entry.login.lock()) return login;
    auto login = std::make_shared<const BackendLogin>(
        BackendLogin{std::string(name), std::string(password), entry.refused});
    entry.login = login;
    return login;
  }
  return nullptr;
}

void LoginCache::remember(const BackendLoginPtr& login, std::uint64_t now_ms) {
  const Hash key = hash(login->username, login->password);
  auto found = std::find_if(entries_.begin(), entries_.end(),
                            [&](const Entry& entry) { return entry.hash == key; });
  if (found == entries_.end()) {
    if (entries_.size() >= kMaxEntries) {
      found = std::min_element(
          entries_.begin(), entries_.end(),
          [](const Entry& a, const Entry& b) { return a.accepted_ms < b.accepted_ms; });
    } else {
      found = entries_.insert(entries_.end(), Entry{});
    }
  }
  *found = Entry{key, now_ms, login, login->refused};
}

}  // namespace rhp::proxy
