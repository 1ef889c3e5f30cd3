#include "proxy/proxy_commands.h"

#include <fmt/format.h>
#include <fnmatch.h>
#include <strings.h>

#include <charconv>

#include "commands/redis_match.h"
#include "commands/resp_array.h"
#include "config/config_dump.h"
#include "proxy/version.h"

namespace rhp::proxy {

namespace {

template <class Get>
std::uint64_t total(const ProxyView& view, Get get) {
  std::uint64_t sum = 0;
  for (const WorkerMetrics* worker : view.workers) sum += get(*worker);
  return sum;
}

std::string topologyLines(const ProxyView& view) {
  const health::Topology& topology = *view.topology;
  std::string out;
  out += fmt::format("master_name:{}\r\n", view.config->sentinel.master_name);
  out += fmt::format("master_status:{}\r\n", health::toString(topology.status));
  out += fmt::format("master:{}\r\n", topology.master ? topology.master->toString() : "none");
  out += fmt::format("write_lease_valid:{}\r\n", view.write_lease_valid ? 1 : 0);
  out += fmt::format("replicas:{}\r\n", topology.replicas.size());
  for (std::size_t i = 0; i < topology.replicas.size(); ++i) {
    const auto& replica = topology.replicas[i];
    out += fmt::format("replica{}:address={},eligible={},lag_ms={}{}\r\n", i,
                       replica.address.toString(), replica.eligible ? 1 : 0, replica.lag_ms,
                       replica.eligible ? "" : ",reason=" + replica.reason);
  }
  std::string sentinels;
  for (const auto& address : view.config->sentinel.addresses) {
    sentinels += (sentinels.empty() ? "" : ",") + address.toString();
  }
  out += fmt::format("sentinels_configured:{}\r\n", sentinels);
  return out;
}

std::string configGet(std::string_view pattern, const config::Config& config) {
  const std::string glob(pattern);
  std::string items;
  std::size_t count = 0;
  for (const auto& [key, value] : config::configEntries(config)) {
    if (fnmatch(glob.c_str(), key.c_str(), FNM_CASEFOLD) != 0) continue;
    items += commands::bulkString(key) + commands::bulkString(value);
    count += 2;
  }
  return fmt::format("*{}\r\n{}", count, items);
}

}  // namespace

std::string proxyInfoSection(const ProxyView& view) {
  std::string out = "# Proxy\r\n";
  out += fmt::format("proxy_version:{}\r\n", kVersion);
  out += fmt::format("uptime_in_seconds:{}\r\n", view.uptime_seconds);
  const auto& settings = view.config->proxy;
  out += fmt::format("listen:{}\r\n", settings.listen ? settings.listen->toString() : "");
  out +=
      fmt::format("tls_listen:{}\r\n", settings.tls_listen ? settings.tls_listen->toString() : "");
  out += fmt::format("auth:{}\r\n",
                     settings.auth == config::AuthMode::Passthrough ? "passthrough" : "local");
  out += fmt::format("workers:{}\r\n", view.workers.size());
  out += fmt::format("connected_clients:{}\r\n", view.clients_open);
  const auto policy = view.config->routing.read_policy;
  out += fmt::format(
      "read_policy:{}\r\n",
      policy == config::Config::Routing::ReadPolicy::Master
          ? "master"
          : (policy == config::Config::Routing::ReadPolicy::Replica ? "replica"
                                                                    : "prefer-replica"));
  out += topologyLines(view);
  std::string commands;
  for (std::size_t c = 0; c < kCommandClasses; ++c) {
    commands +=
        fmt::format("{}{}={}", commands.empty() ? "" : ",", commandClassName(c),
                    total(view, [c](const WorkerMetrics& w) { return w.commands[c].value(); }));
  }
  out += fmt::format("commands:{}\r\n", commands);
  std::string errors;
  for (std::size_t k = 0; k < kErrorKinds; ++k) {
    errors += fmt::format("{}{}={}", errors.empty() ? "" : ",", errorKindName(k),
                          total(view, [k](const WorkerMetrics& w) { return w.errors[k].value(); }));
  }
  out += fmt::format("errors:{}\r\n", errors);
  std::int64_t held = 0;
  for (const WorkerMetrics* worker : view.workers) held += worker->held_requests.value();
  out += fmt::format("held_requests:{}\r\n", held);
  return out;
}

std::string answerProxyCommand(const commands::ArgAccess& args, std::size_t argc,
                               const ProxyView& view) {
  if (argc < 2) return "-ERR wrong number of arguments for 'proxy' command\r\n";
  const std::string_view sub = args[1];
  if (commands::equalsIgnoreCase(sub, "info") && argc == 2)
    return commands::bulkString(proxyInfoSection(view));
  if (commands::equalsIgnoreCase(sub, "topology") && argc == 2)
    return commands::bulkString(topologyLines(view));
  if (commands::equalsIgnoreCase(sub, "config") && argc == 4 &&
      commands::equalsIgnoreCase(args[2], "get")) {
    return configGet(args[3], *view.config);
  }
  if (commands::equalsIgnoreCase(sub, "help")) {
    return "*4\r\n" + commands::bulkString("PROXY INFO -- what the proxy sees and counts") +
           commands::bulkString("PROXY TOPOLOGY -- the master, the replicas and the sentinels") +
           commands::bulkString("PROXY CONFIG GET <pattern> -- the running settings (glob match)") +
           commands::bulkString(
               "INFO [section] -- the master's INFO with a # Proxy section appended");
  }
  return fmt::format("-ERR unknown PROXY subcommand or wrong arguments '{}'. Try PROXY HELP\r\n",
                     std::string(sub));
}

std::string appendToBulk(std::string_view reply, std::string_view section) {
  // A bulk string in RESP2; in RESP3 Redis sends INFO as a verbatim string
  // ('=' and a "txt:" format prefix counted in its length).
  const bool verbatim = reply.starts_with('=');
  if (!(verbatim || reply.starts_with('$')) || reply.starts_with("$-1")) {
    return std::string(reply);
  }
  const std::size_t header_end = reply.find("\r\n");
  if (header_end == std::string_view::npos) return std::string(reply);
  std::size_t length = 0;
  const auto parsed = std::from_chars(reply.data() + 1, reply.data() + header_end, length);
  if (parsed.ec != std::errc() || reply.size() != header_end + 2 + length + 2) {
    return std::string(reply);
  }
  std::string body(reply.substr(header_end + 2, length));
  if (!body.empty() && !body.ends_with("\r\n")) body += "\r\n";
  body += "\r\n";
  body += section;
  if (!verbatim) return commands::bulkString(body);
  return fmt::format("={}\r\n{}\r\n", body.size(), body);
}

}  // namespace rhp::proxy
