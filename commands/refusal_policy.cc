#include "commands/refusal_policy.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "commands/redis_match.h"

namespace rhp::commands {

namespace {

struct Listed {
  std::string_view name;
  std::string_view why;  // the justification, kept next to the name it justifies
};

/* Redis marks these @dangerous (or @admin) but applications use them and
 * they touch nothing beyond data the client can already read and write, or
 * server statistics. Everything else Redis marks @admin or @dangerous is
 * refused by default (DEBUG, MIGRATE, RESTORE, SLOWLOG, LATENCY, CLIENT
 * LIST/KILL/PAUSE, ACL, ROLE, ...), including what newer servers add. */
constexpr std::array<Listed, 9> kApplicationExceptions = {{
    {"info", "statistics; dashboards and client libraries parse it (the proxy adds a section)"},
    {"config|get", "libraries and job queues read settings; secret parameters are refused apart"},
    {"keys", "a data read: @dangerous for its cost on a large keyspace, not for what it reads"},
    {"sort", "a data command: @dangerous for its cost, not for what it touches"},
    {"sort_ro", "a data read: @dangerous for its cost, not for what it reads"},
    {"flushdb", "deletes data the client can already delete key by key"},
    {"flushall", "deletes data the client can already delete key by key"},
    {"swapdb", "moves data between databases the client can already SELECT"},
    {"lastsave", "a timestamp; backup checks read it"},
}};

/* Redis Cluster's commands: the proxy presents one standalone server, and
 * a client that got cluster answers from it would try to follow a cluster
 * the proxy does not show. Disabled like @admin commands. */
constexpr std::array<std::string_view, 3> kClusterCommands = {"cluster", "readonly", "readwrite"};

/* Commands that change what the shared backend connection carries (a
 * replication stream, replies turned off, eviction protection): every
 * other client on that connection would get wrong answers. CLIENT TRACKING
 * and CACHING are not here: they go to the client's own connection
 * (router::decide, Family::ClientTracking). */
constexpr std::array<std::string_view, 6> kConnectionTakeovers = {
    "client|no-evict", "client|reply", "monitor", "psync", "replconf", "sync"};

/* Read or change users and passwords, the proxy's own backend user among
 * them. A node's ACL is managed on the node. */
constexpr std::array<std::string_view, 5> kCredentialCommands = {
    "acl|deluser", "acl|getuser", "acl|list", "acl|load", "acl|setuser"};

/* Redis 7.0's parameters that hold or name credentials: CONFIG GET never
 * shows them and CONFIG SET (when allowed) never changes them. */
constexpr std::array<std::string_view, 5> kSecretParameters = {
    "masterauth", "masteruser", "requirepass", "tls-client-key-file-pass", "tls-key-file-pass"};

template <typename Container>
bool contains(const Container& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

bool isException(std::string_view name) {
  return std::any_of(kApplicationExceptions.begin(), kApplicationExceptions.end(),
                     [&](const Listed& listed) { return listed.name == name; });
}

std::string_view containerOf(std::string_view name) {
  return name.substr(0, name.find('|'));
}

/* Disabled by Redis's own classification, before the allow list. */
bool disabledByMetadata(const CommandSpec& spec) {
  if (isException(spec.name)) return false;
  return spec.inCategory(kCatAdmin | kCatDangerous) || spec.has(kAdmin) ||
         contains(kClusterCommands, containerOf(spec.name));
}

bool isUnproxyableSpec(const CommandSpec& spec, bool learned) {
  // A connection command the built-in table lacks (CLIENT NO-TOUCH and
  // CLIENT SETINFO in 7.2) sets state on whatever connection carries it.
  return contains(kConnectionTakeovers, spec.name) || (learned && spec.inCategory(kCatConnection));
}

/* CONFIG GET's patterns and CONFIG SET's names, checked against the
 * secret parameters the way Redis will match them. */
RefusalVerdict configArguments(const CommandSpec& spec, const RouteRequest& request) {
  const bool get = spec.name == "config|get";
  const bool set = spec.name == "config|set";
  if (!get && !set) return {};
  for (std::size_t i = 2; i < request.argc; i += set ? 2 : 1) {
    const std::string_view arg = request.args[i];
    // CONFIG GET without a glob character and CONFIG SET look the name up in
    // a dict compared with strcasecmp; with one, matching stops at the NUL.
    if (hasNul(arg)) return {Refusal::AmbiguousName, arg};
    for (std::string_view secret : kSecretParameters) {
      const bool hit = get ? redisConfigGetMatches(arg, secret) : redisKeywordEquals(arg, secret);
      if (hit) return {Refusal::Credentials, secret};
    }
  }
  return {};
}

}  // namespace

AllowList::AllowList(std::vector<std::string> names) : names_(std::move(names)) {
  for (auto& name : names_) {
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  }
}

bool AllowList::allows(std::string_view command, std::string_view subcommand_spec) const {
  for (const auto& name : names_) {
    if (name == command || name == subcommand_spec) return true;
  }
  return false;
}

bool isDisabledByDefault(std::string_view name) {
  return std::any_of(
      builtinCommands().begin(), builtinCommands().end(), [&](const CommandSpec& spec) {
        const bool named = spec.name == name || containerOf(spec.name) == name;
        return named && disabledByMetadata(spec) && !isUnproxyableSpec(spec, false) &&
               !contains(kCredentialCommands, spec.name);
      });
}

std::vector<std::string_view> applicationExceptions() {
  std::vector<std::string_view> names;
  for (const auto& listed : kApplicationExceptions) names.push_back(listed.name);
  return names;
}

bool isUnproxyable(std::string_view name) {
  return contains(kConnectionTakeovers, name);
}

bool isNeverAllowed(std::string_view name) {
  return contains(kCredentialCommands, name);
}

RefusalVerdict ambiguousName(const RouteRequest& request, bool subcommand_is_a_name) {
  if (hasNul(request.name)) return {Refusal::AmbiguousName, request.name};
  if (subcommand_is_a_name && request.argc > 1 && hasNul(request.subcommand)) {
    return {Refusal::AmbiguousName, request.subcommand};
  }
  return {};
}

RefusalVerdict refusalFor(const CommandSpec& spec, bool learned, const RouteRequest& request,
                          const AllowList& allowed) {
  // Every command the lists above name is @admin, @dangerous or
  // @connection (or a CLUSTER one): the commands an application sends on
  // every request cost a few bit tests here, no string compares.
  if (!spec.inCategory(kCatAdmin | kCatDangerous | kCatConnection) && !spec.has(kAdmin) &&
      !spec.name.starts_with("cluster")) {
    return {};
  }
  if (isUnproxyableSpec(spec, learned)) return {Refusal::Unproxyable, {}};
  if (contains(kCredentialCommands, spec.name)) return {Refusal::Credentials, {}};
  if (auto verdict = configArguments(spec, request); verdict.why != Refusal::None) return verdict;
  if (disabledByMetadata(spec) && !allowed.allows(containerOf(spec.name), spec.name)) {
    return {Refusal::Disabled, {}};
  }
  return {};
}

}  // namespace rhp::commands
