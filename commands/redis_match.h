#pragma once

#include <strings.h>

#include <string_view>

namespace rhp::commands {

/* How redis-server compares the names and patterns a client sends. The
 * proxy must read every argument it decides on exactly as Redis will, or a
 * client can send bytes the proxy reads as one thing and Redis runs as
 * another (a command smuggled past the refusal list). */

/* Redis matches keywords and command names with strcasecmp(): ASCII case
 * folding, and the comparison stops at the first NUL, so "BLOCK\0x" is
 * BLOCK to Redis. True when Redis would take `arg` for `keyword` (lower
 * case, no NUL). */
bool redisKeywordEquals(std::string_view arg, std::string_view keyword);

/* The proxy's own names (PROXY and its subcommands, HELLO's options): the
 * whole argument, ASCII case folded. Stricter than strcasecmp: a NUL never
 * matches, so nothing here can be read two ways. */
inline bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

/* Exactly Redis's string2ll: "0", or an optional '-' and digits without a
 * leading zero, at most 20 characters, no '+' or blanks. A laxer parse
 * ("$03", "*-0") would forward a frame Redis rejects with a protocol
 * error, closing the shared connection under every other client's request. */
bool redisString2ll(std::string_view text, long long& out);

/* True when `arg` holds a NUL byte: Redis 7.0 looks command and subcommand
 * names up in a dict hashed over all the bytes but compared with
 * strcasecmp, so "SET\0<suffix>" runs as SET whenever the hashes share a
 * bucket (a few hundred suffixes find one). No real name holds a NUL. */
bool hasNul(std::string_view arg);

/* Redis's glob (stringmatchlen in util.c, as CONFIG GET, KEYS and
 * PSUBSCRIBE use it): '*', '?', '[...]' with '^' and ranges, '\' escapes;
 * `nocase` folds ASCII case. Written from its documented behaviour and
 * checked against a real redis-server in tests/integration. */
bool redisGlobMatches(std::string_view pattern, std::string_view text, bool nocase);

/* How CONFIG GET (Redis 7.0) picks parameters for one of its arguments: an
 * argument without '[', '*' or '?' is a name, looked up exactly (ASCII
 * case folded; "masteru\\ser" names nothing), any other is a glob. */
bool redisConfigGetMatches(std::string_view pattern, std::string_view parameter);

/* True when Redis 7.0 reads a SCAN cursor argument as 0, a new scan: it
 * parses with strtoul, so "00", "+0", "-0", "" and "0\\0junk" all are. */
bool redisScanCursorIsZero(std::string_view cursor);

}  // namespace rhp::commands
