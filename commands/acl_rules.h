#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "commands/command_table.h"

namespace rhp::commands {

/* What a user may not do, as Redis's NOPERM errors tell it apart. */
enum class AclDenial : std::uint8_t { None, Command, Keys, Channels };

/* Which commands one user may run, from Redis ACL command rules in order:
 * `+@all`/`allcommands`, `-@all`/`nocommands`, `+@<category>`,
 * `-@<category>`, `+<command>`, `-<command>`, `+<command>|<subcommand>`,
 * `-<command>|<subcommand>`. As in Redis, a later rule overrides an
 * earlier one for the commands they share, `+config` covers every CONFIG
 * subcommand, and `+@all` covers commands Redis adds later. The categories
 * are the ones COMMAND reports per command and subcommand (the built-in
 * table, and the master's COMMAND for commands it does not know), not a
 * list of the proxy's own.
 *
 * Keys and channels are all or nothing here: `~*` (allkeys) and `&*`
 * (allchannels) give all, and without them (Redis's defaults for a new
 * user) no command that names a key or a channel runs; patterns are
 * Redis's to enforce, with the user defined on the nodes. */
class AclRules {
 public:
  /* Adds one rule; false when it is not a rule this class knows. */
  bool add(std::string_view rule);
  /* Whether a command Redis resolves to `spec` ("get", "config|get") may run. */
  bool allows(const CommandSpec& spec) const;
  /* Why a request Redis resolves to `spec` is refused, checked in Redis's
   * order: the command, then its keys, then its channels. */
  AclDenial check(const CommandSpec& spec) const;
  /* Everything allowed (`+@all` last, `~*`, `&*`): the `default` user
   * without a line of its own. The session then skips check() per request. */
  bool unrestricted() const;
  /* The rules as given, space-separated (for logs and tests). */
  std::string describe() const;

 private:
  struct Rule {
    bool allow = false;
    AclCategories category = 0;  // @<category>; all bits: @all
    std::string command;         // "config" (and its subcommands) or "config|get"
  };
  std::vector<Rule> rules_;
  bool all_keys_ = false;
  bool all_channels_ = false;
};

}  // namespace rhp::commands
