#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/address.h"
#include "config/config.h"
#include "config/config_keys.h"
#include "config/memory_size.h"

/* The kinds of value a config key holds: how each is read from the file
 * (with its checks) and shown as the file would spell it. config_keys.cc
 * pairs each key with one of these and with its Config member. */
namespace rhp::config::key_types {

template <class Int>
struct Integer {
  std::uint64_t min = 0;
  std::uint64_t max = 0;
  std::optional<Int> read(ValueReader& value) const {
    if (auto number = value.integer(min, max)) return static_cast<Int>(*number);
    return std::nullopt;
  }
  std::string show(Int value) const { return std::to_string(value); }
};

/* proxy.workers: 0 means one per core, and CONFIG GET shows how many. */
struct WorkerCount : Integer<unsigned> {
  std::string show(unsigned value) const { return std::to_string(effectiveWorkers(value)); }
};

/* A "_ms" key: at most a day, which no timeout here needs to pass. */
struct Milliseconds {
  bool allow_zero = false;
  std::optional<milliseconds> read(ValueReader& value) const {
    if (auto number = value.integer(allow_zero ? 0 : 1, 24ull * 3600 * 1000)) {
      return milliseconds(*number);
    }
    return std::nullopt;
  }
  std::string show(milliseconds value) const { return std::to_string(value.count()); }
};

/* A byte count: an integer, or redis.conf's units ("16mb"). */
struct Bytes {
  std::uint64_t min = 0;
  std::optional<std::uint64_t> read(ValueReader& value) const { return value.memory(min); }
  std::string show(std::uint64_t value) const { return std::to_string(value); }
};

struct BufferLimit {
  std::optional<OutputBufferLimit> read(ValueReader& value) const {
    const auto text = value.string();
    if (!text) return std::nullopt;
    auto limit = parseOutputBufferLimit(*text);
    if (!limit) {
      value.problem(
          "must be a string \"<hard> <soft> <soft-seconds>\" as in redis.conf, like \"32mb 8mb "
          "60\"");
    }
    return limit;
  }
  std::string show(const OutputBufferLimit& value) const { return formatOutputBufferLimit(value); }
};

struct Flag {
  std::optional<bool> read(ValueReader& value) const { return value.boolean(); }
  std::string show(bool value) const { return value ? "true" : "false"; }
};

struct Text {
  std::optional<std::string> read(ValueReader& value) const { return value.string(); }
  std::string show(const std::string& value) const { return value; }
};

/* A password or token: read as text, shown only as set or not. */
struct Secret : Text {
  static constexpr bool kSecret = true;
  std::string show(const std::string& value) const { return value.empty() ? "" : "(set)"; }
};

/* "host:port"; a listener may ask for port 0. */
struct Endpoint {
  bool listener = false;
  std::optional<Address> read(ValueReader& value) const {
    const auto text = value.string("a string \"host:port\"");
    if (!text) return std::nullopt;
    std::string error;
    auto address = parseAddress(*text, error, listener);
    if (!address) value.problem("bad address '" + *text + "': " + error);
    return address;
  }
  std::string show(const Address& value) const { return value.toString(); }
};

/* A listener's "host:port", or "" for none (proxy.listen, proxy.tls_listen:
 * Redis's `port 0` and `tls-port 0`). */
struct OptionalEndpoint {
  std::optional<std::optional<Address>> read(ValueReader& value) const {
    const auto text = value.string("a string \"host:port\" or \"\"");
    if (!text) return std::nullopt;
    if (text->empty()) return std::optional<Address>();
    std::string error;
    auto address = parseAddress(*text, error, true);
    if (!address) {
      value.problem("bad address '" + *text + "': " + error);
      return std::nullopt;
    }
    return std::optional<Address>(*address);
  }
  std::string show(const std::optional<Address>& value) const {
    return value ? value->toString() : "";
  }
};

std::string joined(const std::vector<std::string>& items);

struct Endpoints {
  std::optional<std::vector<Address>> read(ValueReader& value) const;
  std::string show(const std::vector<Address>& value) const;
};

/* One of a fixed set of names, each standing for a value. */
template <class T, std::size_t N>
struct OneOf {
  std::array<std::string_view, N> names;
  std::array<T, N> values;
  std::optional<T> read(ValueReader& value) const {
    if (auto index = value.choice(names)) return values[*index];
    return std::nullopt;
  }
  std::string show(const T& value) const {
    for (std::size_t i = 0; i < N; ++i) {
      if (values[i] == value) return std::string(names[i]);
    }
    return "?";
  }
};

/* A name kept as the name: log.level. */
template <std::size_t N>
struct Words {
  std::array<std::string_view, N> names;
  std::optional<std::string> read(ValueReader& value) const {
    if (auto index = value.choice(names)) return std::string(names[*index]);
    return std::nullopt;
  }
  std::string show(const std::string& value) const { return value; }
};

/* routing.replica_weights: { "host:port" = weight }. */
struct Weights {
  std::optional<std::vector<Config::Routing::Weight>> read(ValueReader& value) const;
  std::string show(const std::vector<Config::Routing::Weight>& value) const;
};

/* routing.allow_commands: commands disabled by default, re-enabled. */
struct AllowedCommands {
  std::optional<std::vector<std::string>> read(ValueReader& value) const;
  std::string show(const std::vector<std::string>& value) const { return joined(value); }
};

/* proxy.users: one Redis ACL file line per user (config/acl_user.h), each
 * checked where it stands. Shown by name only: a line may hold a password. */
struct AclUserLines {
  static constexpr bool kSecret = true;
  std::optional<std::vector<std::string>> read(ValueReader& value) const;
  std::string show(const std::vector<std::string>& value) const;
};

template <class Type>
constexpr bool isSecret() {
  if constexpr (requires { Type::kSecret; }) {
    return Type::kSecret;
  } else {
    return false;
  }
}

/* A Key from its name, when it applies, its Config member (a function from
 * a Config to the member, for const and mutable configs alike) and its type. */
template <class Member, class Type>
Key makeKey(std::string_view name, Apply apply, Member member, Type type) {
  return Key{
      .name = name,
      .apply = apply,
      .secret = isSecret<Type>(),
      .read =
          [member, type](ValueReader& value, Config& config) {
            if (auto parsed = type.read(value)) member(config) = std::move(*parsed);
          },
      .show = [member, type](const Config& config) { return type.show(member(config)); },
      .same = [member](const Config& a, const Config& b) { return member(a) == member(b); },
      .copy = [member](const Config& from, Config& to) { member(to) = member(from); },
  };
}

}  // namespace rhp::config::key_types
