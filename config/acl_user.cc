#include "config/acl_user.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <sstream>

namespace rhp::config {

namespace {

AclUser::Hash sha256(std::string_view text) {
  AclUser::Hash hash{};
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), hash.data(), &length, EVP_sha256(), nullptr);
  return hash;
}

bool parseHex(std::string_view hex, AclUser::Hash& hash) {
  if (hex.size() != 64) return false;
  for (std::size_t i = 0; i < hash.size(); ++i) {
    unsigned value = 0;
    for (const char c : hex.substr(i * 2, 2)) {
      value <<= 4;
      if (c >= '0' && c <= '9') {
        value |= static_cast<unsigned>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        value |= static_cast<unsigned>(c - 'a' + 10);
      } else {
        return false;  // Redis writes lower case and refuses anything else
      }
    }
    hash[i] = static_cast<std::uint8_t>(value);
  }
  return true;
}

}  // namespace

bool AclUser::accepts(std::string_view password) const {
  if (!enabled) return false;
  if (nopass) return true;
  const Hash given = sha256(password);
  bool match = false;
  for (const Hash& hash : passwords) {
    match |= CRYPTO_memcmp(given.data(), hash.data(), hash.size()) == 0;
  }
  return match;
}

std::shared_ptr<const AclUser> parseAclUser(std::string_view line, std::string& error) {
  std::istringstream words{std::string(line)};
  std::string word;
  auto user = std::make_shared<AclUser>();
  if (!(words >> word) || word != "user" || !(words >> user->name)) {
    error = "'" + std::string(line) + "': expected \"user <name> <rules>\" as in a Redis ACL file";
    return nullptr;
  }
  while (words >> word) {
    if (word == "on" || word == "off") {
      user->enabled = word == "on";
    } else if (word == "nopass") {
      user->nopass = true;
      user->passwords.clear();
    } else if (word == "resetpass") {
      user->nopass = false;
      user->passwords.clear();
    } else if (word[0] == '#') {
      AclUser::Hash hash{};
      if (!parseHex(std::string_view(word).substr(1), hash)) {
        error = "user " + user->name + ": '" + word.substr(0, 8) +
                "...' is not a SHA-256 hash (64 lower-case hex digits)";
        return nullptr;
      }
      user->passwords.push_back(hash);
      user->nopass = false;
    } else if (word[0] == '>') {
      user->passwords.push_back(sha256(std::string_view(word).substr(1)));
      user->nopass = false;
    } else if (user->rules.add(word)) {
      continue;
    } else if (word[0] == '~' || word[0] == '%' || word[0] == '&') {
      error = "user " + user->name + ": '" + word +
              "': key and channel patterns are enforced by Redis, not by the proxy; use ~* and &* "
              "here (or define the user on the nodes)";
      return nullptr;
    } else {
      error = "user " + user->name + ": '" + word +
              "' is not a rule the proxy knows (on, off, nopass, resetpass, #<sha256>, "
              "><password>, +@<category>, -@<category>, +<command>, -<command>, allcommands, "
              "nocommands, ~*, allkeys, resetkeys, &*, allchannels, resetchannels)";
      return nullptr;
    }
  }
  return user;
}

AclUsers::AclUsers(const std::string& password, const std::vector<std::string>& lines) {
  for (const std::string& line : lines) {
    std::string error;
    if (auto user = parseAclUser(line, error)) users_.push_back(std::move(user));
  }
  default_ = find("default");
  if (default_ == nullptr) {
    auto user = std::make_shared<AclUser>();
    user->name = "default";
    user->enabled = true;
    user->rules.add("+@all");
    user->rules.add("~*");
    user->rules.add("&*");
    if (password.empty()) {
      user->nopass = true;
    } else {
      user->passwords.push_back(sha256(password));
    }
    default_ = user;
    users_.push_back(default_);
  }
}

namespace {

std::shared_ptr<AclUser> allowedEverything(std::string_view name) {
  auto user = std::make_shared<AclUser>();
  user->name = name;
  user->rules.add("+@all");
  user->rules.add("~*");
  user->rules.add("&*");
  return user;
}

}  // namespace

AclUsers AclUsers::nodesDecide(bool default_nopass, const std::vector<std::string>& refused) {
  AclUsers users;
  auto user = allowedEverything("default");
  user->enabled = user->nopass = default_nopass;
  for (const std::string& rule : refused) user->rules.add(rule);
  users.default_ = std::move(user);
  users.users_.push_back(users.default_);
  return users;
}

AclUsers AclUsers::acceptedByNodes(std::string_view name, std::string_view password,
                                   const std::vector<std::string>& refused) {
  AclUsers users;
  auto user = allowedEverything(name);
  for (const std::string& rule : refused) user->rules.add(rule);
  user->enabled = true;
  user->passwords.push_back(sha256(password));
  users.users_.push_back(user);
  users.default_ = name == "default" ? users.users_.back() : allowedEverything("default");
  return users;
}

std::shared_ptr<const AclUser> AclUsers::find(std::string_view name) const {
  const auto found = std::find_if(users_.begin(), users_.end(),
                                  [&](const auto& user) { return user->name == name; });
  return found == users_.end() ? nullptr : *found;
}

}  // namespace rhp::config
