#pragma once

#include <string_view>

/* Every error line the proxy makes up, as complete RESP lines. Each says
 * what happened and what the client can do about it. */
namespace rhp::errors {

inline constexpr std::string_view kMaxClients = "-ERR max number of clients reached\r\n";
/* Sent in plain text to a client that spoke plain RESP to the TLS port;
 * redis-server would close without a word. */
inline constexpr std::string_view kTlsPortPlaintext =
    "-ERR redis-ha-proxy: this port speaks TLS only; connect with TLS (redis-cli --tls) or to "
    "the plain port\r\n";
inline constexpr std::string_view kNoProto = "-NOPROTO unsupported protocol version\r\n";
inline constexpr std::string_view kHelloResp2WhileSubscribed =
    "-ERR redis-ha-proxy does not switch a subscribed connection to RESP2: unsubscribe (or RESET) "
    "first\r\n";
inline constexpr std::string_view kTrackingNeedsResp3 =
    "-ERR redis-ha-proxy supports CLIENT TRACKING only over RESP3 (HELLO 3), where invalidations "
    "arrive on the client's own connection\r\n";
inline constexpr std::string_view kTrackingRedirect =
    "-ERR redis-ha-proxy does not support CLIENT TRACKING REDIRECT: use RESP3 (HELLO 3) and "
    "receive invalidations on the tracking connection itself\r\n";
inline constexpr std::string_view kHelloResp2WhileTracking =
    "-ERR redis-ha-proxy does not switch a tracking connection to RESP2: CLIENT TRACKING off (or "
    "RESET) first\r\n";
inline constexpr std::string_view kNoAuth = "-NOAUTH Authentication required.\r\n";
inline constexpr std::string_view kWrongPass =
    "-WRONGPASS invalid username-password pair or user is disabled.\r\n";
inline constexpr std::string_view kAuthNotConfigured =
    "-ERR AUTH <password> called without any password configured for the proxy. Are you sure "
    "your configuration is correct?\r\n";
/* Redis's own answer to AUTH <password> when `default` has nopass
 * (passthrough: the nodes' default user). */
inline constexpr std::string_view kAuthDefaultNopass =
    "-ERR AUTH <password> called without any password configured for the default user. Are you "
    "sure your configuration is correct?\r\n";
inline constexpr std::string_view kInvalidDbIndex = "-ERR DB index is out of range\r\n";
inline constexpr std::string_view kNotAnInteger =
    "-ERR value is not an integer or out of range\r\n";
inline constexpr std::string_view kSyntax = "-ERR syntax error\r\n";

inline constexpr std::string_view kMasterLostInFlight =
    "-ERR connection to the master was lost with this request in flight; its outcome is "
    "unknown. Retry only if it is safe to repeat\r\n";
inline constexpr std::string_view kFailedOverInFlight =
    "-ERR the master failed over with this request in flight; its outcome is unknown. Retry only "
    "if it is safe to repeat\r\n";
inline constexpr std::string_view kRequestTimeout =
    "-ERR backend did not answer within backend.request_timeout_ms; the outcome is unknown and "
    "the connection was replaced\r\n";
/* proxy.auth = "passthrough": the user's own connections (UserConnections). */
inline constexpr std::string_view kUserNotConnected =
    "-ERR proxy: no connection logged in as this user within backend.request_timeout_ms; the "
    "request was not sent\r\n";
inline constexpr std::string_view kLoginUnchecked =
    "-ERR proxy: no node could check the password now (the master and the replicas are "
    "unreachable or failing over). Retry later\r\n";
inline constexpr std::string_view kTooManyUsers =
    "-ERR proxy: backend.max_users users already have connections to this node and none of "
    "them is idle. Raise backend.max_users or retry later\r\n";
inline constexpr std::string_view kHoldTimeout =
    "-MASTERDOWN no confirmed master within failover.hold_ms; a failover is in progress or the "
    "master is unreachable. Retry later\r\n";
inline constexpr std::string_view kHoldFull =
    "-MASTERDOWN no confirmed master and the failover hold buffer (failover.hold_max_bytes) is "
    "full. Retry later\r\n";
inline constexpr std::string_view kNoSentinel =
    "-MASTERDOWN no sentinel reachable, the proxy does not know the master. Check "
    "sentinel.addresses and that the sentinels run\r\n";
inline constexpr std::string_view kNoSentinelMajority =
    "-MASTERDOWN the proxy cannot reach a majority of the sentinels, so it cannot tell whether "
    "the master was failed over; requests for the master are refused until it can. Check the "
    "network to the sentinels\r\n";
inline constexpr std::string_view kUnknownMaster =
    "-MASTERDOWN the sentinels do not know the configured master name. Check "
    "sentinel.master_name\r\n";
inline constexpr std::string_view kReadOnlyRetriesExhausted =
    "-READONLY the node believed to be master keeps answering READONLY; the topology did not "
    "settle. Retry later\r\n";

inline constexpr std::string_view kNoEligibleReplica =
    "-ERR no replica is eligible for reads (routing.read_policy = \"replica\"): replicas are "
    "down, lagging or resyncing. Retry later or use read_policy \"prefer-replica\"\r\n";
inline constexpr std::string_view kScanNodeGone =
    "-ERR the node that issued this SCAN cursor no longer serves reads through the proxy; "
    "restart the iteration with cursor 0\r\n";
inline constexpr std::string_view kTransactionAborted =
    "-ERR transaction aborted: the connection to the master was lost during it (failover or "
    "network). EXEC will fail and nothing is applied; send DISCARD or EXEC and retry\r\n";
inline constexpr std::string_view kExecAbortedConnectionLost =
    "-EXECABORT Transaction discarded because the connection to the master was lost during it "
    "(failover or network); nothing was applied. Retry the transaction\r\n";
inline constexpr std::string_view kExecAbortedPreviousErrors =
    "-EXECABORT Transaction discarded because of previous errors.\r\n";
inline constexpr std::string_view kSubscribeWhileWatching =
    "-ERR redis-ha-proxy cannot enter pub/sub mode while WATCH is active; UNWATCH first\r\n";

inline constexpr std::string_view kProtocolInvalidMultibulkLength =
    "-ERR Protocol error: invalid multibulk length\r\n";
inline constexpr std::string_view kProtocolInvalidBulkLength =
    "-ERR Protocol error: invalid bulk length\r\n";
inline constexpr std::string_view kProtocolBigCount =
    "-ERR Protocol error: too big mbulk count string\r\n";
inline constexpr std::string_view kProtocolBigBulkCount =
    "-ERR Protocol error: too big bulk count string\r\n";
inline constexpr std::string_view kProtocolBigInline =
    "-ERR Protocol error: too big inline request\r\n";
inline constexpr std::string_view kProtocolUnbalancedQuotes =
    "-ERR Protocol error: unbalanced quotes in request\r\n";
inline constexpr std::string_view kProtocolExpectedDollar = "-ERR Protocol error: expected '$'\r\n";
inline constexpr std::string_view kProtocolMissingCrlf =
    "-ERR Protocol error: bulk string not terminated by CRLF\r\n";

}  // namespace rhp::errors
