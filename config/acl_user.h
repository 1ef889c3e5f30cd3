#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "commands/acl_rules.h"

namespace rhp::config {

/* One user clients can AUTH as, defined in the proxy's config
 * (proxy.users) in Redis's ACL file syntax:
 *   user <name> on|off [nopass | #<sha256 hex> | ><password>]... <command rules>
 * The command, key and channel rules are commands::AclRules: keys and
 * channels all or nothing; patterns are refused, as Redis enforces them,
 * with the user defined on the nodes. */
struct AclUser {
  using Hash = std::array<std::uint8_t, 32>;  // SHA-256, as Redis's ACL files keep passwords

  std::string name;
  bool enabled = false;  // Redis: a new user is off
  bool nopass = false;
  std::vector<Hash> passwords;
  commands::AclRules rules;

  /* Whether `password` logs in: on, and nopass or a matching hash. Every
   * hash is compared, in constant time each. */
  bool accepts(std::string_view password) const;
};

/* Parses one "user ..." line; nullptr with `error` set when it is wrong. */
std::shared_ptr<const AclUser> parseAclUser(std::string_view line, std::string& error);

/* The users of a proxy: proxy.users, and `default` from proxy.password
 * unless a line defines it (Redis's requirepass sets the default user's
 * password the same way; with none, `default` is "on nopass +@all"). */
class AclUsers {
 public:
  AclUsers() = default;
  /* Lines already checked by the config loader; a wrong one is skipped. */
  AclUsers(const std::string& password, const std::vector<std::string>& lines);
  /* proxy.auth = "passthrough": the nodes know the users, so the proxy
   * knows none but `default`, which is on and nopass if the nodes' is
   * (proxy/nodes_default_user.h), with every right but `refused` (as for
   * acceptedByNodes), and off until a client logs in as it otherwise. */
  static AclUsers nodesDecide(bool default_nopass, const std::vector<std::string>& refused);
  /* A login the nodes accepted, as the one user, with every right but the
   * `refused` rules ("-ping"): the nodes check the user's commands, keys
   * and channels themselves, except for the commands the proxy answers. */
  static AclUsers acceptedByNodes(std::string_view name, std::string_view password,
                                  const std::vector<std::string>& refused);
  /* nullptr for a name no line defines. */
  std::shared_ptr<const AclUser> find(std::string_view name) const;
  const std::shared_ptr<const AclUser>& defaultUser() const { return default_; }
  const std::vector<std::shared_ptr<const AclUser>>& all() const { return users_; }

 private:
  std::vector<std::shared_ptr<const AclUser>> users_;
  std::shared_ptr<const AclUser> default_;
};

}  // namespace rhp::config
