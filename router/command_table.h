#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace rhp::router {

using CommandFlags = std::uint32_t;
inline constexpr CommandFlags kNone = 0;
inline constexpr CommandFlags kWrite = 1u << 0;
inline constexpr CommandFlags kReadOnly = 1u << 1;
inline constexpr CommandFlags kAdmin = 1u << 2;
inline constexpr CommandFlags kPubSub = 1u << 3;
inline constexpr CommandFlags kNoScript = 1u << 4;
inline constexpr CommandFlags kBlocking = 1u << 5;
inline constexpr CommandFlags kLoading = 1u << 6;
inline constexpr CommandFlags kStale = 1u << 7;
inline constexpr CommandFlags kFast = 1u << 8;
inline constexpr CommandFlags kMovableKeys = 1u << 9;
inline constexpr CommandFlags kDenyOom = 1u << 10;
/* A container command (CONFIG, CLIENT, SCRIPT, ...): its second argument
 * names a subcommand with flags of its own. */
inline constexpr CommandFlags kHasSubcommands = 1u << 11;

/* One row of redis-server's COMMAND reply (subcommands are rows named
 * "config|get", as Redis names them): arity < 0 means "at least -arity
 * arguments", counting the command name. */
struct CommandSpec {
  std::string_view name;  // lower case
  std::int16_t arity;
  CommandFlags flags;
  std::int8_t first_key;

  bool has(CommandFlags flag) const { return (flags & flag) != 0; }
  bool arityAccepts(std::size_t argc) const {
    return arity >= 0 ? argc == static_cast<std::size_t>(arity)
                      : argc >= static_cast<std::size_t>(-arity);
  }
};

/* One command as a server's COMMAND reply describes it (Redis 7 format);
 * subcommands are listed with their full "container|sub" names. */
struct CommandRow {
  std::string name;
  std::int64_t arity = 0;
  std::vector<std::string> flags;
  std::int64_t first_key = 0;
  std::vector<CommandRow> subcommands;
};

/* Commands the connected master knows and the built-in table (Redis 7.0)
 * does not: a newer server's commands and module commands, routed by the
 * flags that server reports. Built from the master's COMMAND at connect. */
class LearnedCommands {
 public:
  explicit LearnedCommands(const std::vector<CommandRow>& rows);
  /* nullptr if not learned; case-insensitive; `subcommand` may be empty. */
  const CommandSpec* find(std::string_view name, std::string_view subcommand) const;
  std::size_t size() const { return specs_.size(); }

 private:
  void add(const CommandRow& row);
  std::deque<std::string> names_;  // stable storage for the specs' names
  std::vector<CommandSpec> specs_;
};

/* Looks a command name up case-insensitively, without allocating.
 * Returns nullptr for a command this Redis version does not know. */
const CommandSpec* findCommand(std::string_view name);

/* The most specific row for a request: the subcommand's when `name` is a
 * container and `subcommand` is one of its subcommands, else the command's. */
const CommandSpec* findCommand(std::string_view name, std::string_view subcommand);

}  // namespace rhp::router
