#pragma once

#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rhp::commands {

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

/* Redis's ACL categories ("@admin", "@dangerous", ...), one bit each, as
 * COMMAND reports them per command and subcommand. The refusal policy is
 * derived from them, so it follows Redis's own classification. */
using AclCategories = std::uint32_t;

struct AclCategoryName {
  std::string_view name;  // as Redis writes it, with the '@'
  AclCategories bit;
};

/* The 21 categories of Redis 7.0 (ACL CAT). */
inline constexpr AclCategoryName kAclCategoryNames[] = {
    {"@keyspace", 1u << 0},    {"@read", 1u << 1},         {"@write", 1u << 2},
    {"@set", 1u << 3},         {"@sortedset", 1u << 4},    {"@list", 1u << 5},
    {"@hash", 1u << 6},        {"@string", 1u << 7},       {"@bitmap", 1u << 8},
    {"@hyperloglog", 1u << 9}, {"@geo", 1u << 10},         {"@stream", 1u << 11},
    {"@pubsub", 1u << 12},     {"@admin", 1u << 13},       {"@fast", 1u << 14},
    {"@slow", 1u << 15},       {"@blocking", 1u << 16},    {"@dangerous", 1u << 17},
    {"@connection", 1u << 18}, {"@transaction", 1u << 19}, {"@scripting", 1u << 20},
};

/* The bit of one category name; 0 for a name this table does not know (a
 * newer server's). Case-sensitive, as Redis prints them. */
constexpr AclCategories aclCategory(std::string_view name) {
  for (const auto& category : kAclCategoryNames) {
    if (category.name == name) return category.bit;
  }
  return 0;
}

/* "@read @string @fast" -> their bits. For the generated table, where an
 * unknown name is a compile error rather than a silently missing bit. */
consteval AclCategories aclCategories(std::string_view list) {
  AclCategories bits = 0;
  while (!list.empty()) {
    const std::size_t end = list.find(' ');
    const std::string_view name = list.substr(0, end);
    const AclCategories bit = aclCategory(name);
    if (bit == 0) throw "unknown ACL category in command_table_data.inc";
    bits |= bit;
    list = end == std::string_view::npos ? std::string_view{} : list.substr(end + 1);
  }
  return bits;
}

inline constexpr AclCategories kCatAdmin = aclCategory("@admin");
inline constexpr AclCategories kCatDangerous = aclCategory("@dangerous");
inline constexpr AclCategories kCatConnection = aclCategory("@connection");

/* The commands the proxy treats by name, beyond what their flags say: the
 * table's last column (scripts/gen_command_table.py, FAMILIES). The router
 * reads this column and compares no names. */
enum class Family : std::uint8_t {
  None,
  // The client's own connection, answered by the proxy.
  Ping,
  Echo,
  Quit,
  Select,
  Hello,
  Auth,
  Reset,
  ClientSetName,
  ClientGetName,
  /* Client-side caching: on the client's own connection (RESP3 only), where
   * Redis remembers what it read and pushes invalidations. */
  ClientTracking,
  ClientCaching,
  // Transactions: pin the client to a master connection of its own.
  Multi,
  Exec,
  Discard,
  Watch,
  Unwatch,
  Subscribe,    // SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE
  Unsubscribe,  // UNSUBSCRIBE, PUNSUBSCRIBE, SUNSUBSCRIBE
  StreamRead,   // XREAD, XREADGROUP: they block only with a BLOCK option
  Wait,         // blocks its connection, though COMMAND does not flag it blocking
  Scan,         // cursor in argument 1
  KeyScan,      // SSCAN, HSCAN, ZSCAN: cursor in argument 2
  ScriptCopy,   // SCRIPT LOAD/FLUSH: Redis does not replicate them, replicas get a copy
  Info,         // the reply gains the proxy's own section
  /* SCRIPT KILL, FUNCTION KILL: the only way to end a busy script, so they
   * must reach the busy node at once (router::Via::Urgent). */
  EndsBusyScript,
  AclWhoami,  // answered by the proxy: the client's user, not the proxy's backend user
};

/* Where a blocking command's timeout is (from COMMAND DOCS): its first or
 * last argument, in seconds, or the value after BLOCK, in milliseconds. */
enum class BlockTimeout : std::uint8_t { None, FirstSeconds, LastSeconds, BlockMillis };

/* One row of redis-server's COMMAND reply (subcommands are rows named
 * "config|get", as Redis names them): arity < 0 means "at least -arity
 * arguments", counting the command name. */
struct CommandSpec {
  std::string_view name;  // lower case
  std::int16_t arity;
  CommandFlags flags;
  std::int8_t first_key;
  AclCategories categories = 0;
  Family family = Family::None;
  BlockTimeout block_timeout = BlockTimeout::None;

  bool has(CommandFlags flag) const { return (flags & flag) != 0; }
  bool inCategory(AclCategories category) const { return (categories & category) != 0; }
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
  std::vector<std::string> categories;  // "@read", ...
};

/* Commands the connected master knows and the built-in table (Redis 7.0)
 * does not: a newer server's commands and subcommands (CLIENT NO-TOUCH in
 * 7.2) and module commands, routed and refused by the flags and categories
 * that server reports. Built from the master's COMMAND at connect. */
class LearnedCommands {
 public:
  explicit LearnedCommands(const std::vector<CommandRow>& rows);
  /* The row named exactly `key` ("topk" or "topk|list", lower case). */
  const CommandSpec* findExact(std::string_view key) const;
  std::size_t size() const { return specs_.size(); }

 private:
  void add(const CommandRow& row);
  std::deque<std::string> names_;  // stable storage for the specs' names
  std::vector<CommandSpec> specs_;
};

/* Every row of the built-in table, sorted by name. */
std::span<const CommandSpec> builtinCommands();

/* How redis-server 7.0 resolves a request (lookupCommandLogic): argv[0] in
 * the command table; for a container with more than one argument, argv[1]
 * among its subcommands, and nothing else. */
struct Resolution {
  const CommandSpec* spec = nullptr;  // the row Redis will run; nullptr: see below
  bool learned = false;               // `spec` came from the master's COMMAND
  /* Set with spec == nullptr when argv[0] is a container and argv[1] none
   * of its subcommands: Redis answers "unknown subcommand". */
  const CommandSpec* container = nullptr;
};

/* Built-in rows first, then `learned` (may be null). Both unknown: an
 * empty Resolution, and the master answers as Redis does. */
Resolution resolveCommand(std::string_view name, std::string_view subcommand, std::size_t argc,
                          const LearnedCommands* learned);

/* Looks a command name up case-insensitively, without allocating.
 * Returns nullptr for a command this Redis version does not know. */
const CommandSpec* findCommand(std::string_view name);

}  // namespace rhp::commands
