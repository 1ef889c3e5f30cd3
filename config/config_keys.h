#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace rhp::config {

/* Whether a SIGHUP reload applies a key, or it waits for a restart (it is
 * baked into sockets, threads or pool sizes at startup). */
enum class Apply { Live, Restart };

/* A value in the file, as a key reads it. Each getter checks the value's
 * type (and range) and, when it is wrong, reports a problem naming the key
 * and the value's place in the file, and returns nothing; the loader
 * (config_loader.cc) implements it over TOML. */
class ValueReader {
 public:
  virtual ~ValueReader() = default;

  virtual std::optional<std::uint64_t> integer(std::uint64_t min, std::uint64_t max) = 0;
  /* An integer, or a string in redis.conf's units ("16mb"); 0, or >= min. */
  virtual std::optional<std::uint64_t> memory(std::uint64_t min) = 0;
  virtual std::optional<bool> boolean() = 0;
  /* `expected` completes "must be ...": "a string \"host:port\"". */
  virtual std::optional<std::string> string(std::string_view expected) = 0;
  std::optional<std::string> string() { return string("a string"); }
  /* The index of the string among `choices`, or a problem naming them all. */
  virtual std::optional<std::size_t> choice(std::span<const std::string_view> choices) = 0;
  /* One reader per element of an array. */
  virtual std::optional<std::vector<std::unique_ptr<ValueReader>>> elements(
      std::string_view expected) = 0;
  /* A table's entries: each entry's name, and a reader for its value. */
  struct Entry {
    std::string name;
    std::unique_ptr<ValueReader> value;
  };
  virtual std::optional<std::vector<Entry>> entries(std::string_view expected) = 0;
  /* Anything else wrong with this value. */
  virtual void problem(const std::string& what) = 0;
};

/* One key of the config file. config_keys.cc lists them all, and it is the
 * only place a key is named: the loader, PROXY CONFIG GET, the reload plan
 * and the test of the shipped example walk that list. The value's type and
 * default are Config's member (config.h); its documentation for operators
 * is examples/redis-ha-proxy.toml, which the test holds to this list. */
struct Key {
  std::string_view name;  // "section.key", as in the file
  Apply apply = Apply::Live;
  bool secret = false;  // shown as "(set)", never in clear
  /* Reads the file's value into the config (or reports the problem). */
  std::function<void(ValueReader&, Config&)> read;
  /* The value as the file would spell it. */
  std::function<std::string(const Config&)> show;
  std::function<bool(const Config&, const Config&)> same;
  /* Gives `to` the value `from` has (a reload keeping a restart-only key). */
  std::function<void(const Config& from, Config& to)> copy;
};

/* Every key, in the order of the example file. */
std::span<const Key> configKeys();

}  // namespace rhp::config
