// The explicit driver registry: vendors are added in one list (engine/drivers.cpp), never by
// static initialisers. A duplicate name is a programmer error; an unknown name in a config is
// a user error that lists the valid names.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/driver.hpp"

namespace sb {

class DriverRegistry {
 public:
  using Factory =
      std::function<Result<std::unique_ptr<Driver>>(const ConnectionConfig&, const DriverEnv&)>;

  struct Entry {
    std::string name;         ///< the config's `vendor:` value
    std::string description;  ///< one line for `--help` and error messages
    int default_port = 0;
    std::vector<std::string> option_keys;  ///< vendor-specific keys a connection may set
    Factory factory;
    /// A device on the owner's network: no call budget to keep, so while it fails it is tried
    /// again every poll interval (and is back within one of returning), not after a backoff
    /// of minutes meant for clouds.
    bool local = false;
  };

  /// Throws std::logic_error when the name is taken: two drivers must not share one.
  void add(Entry entry);
  const Entry* find(std::string_view name) const;
  std::vector<std::string> names() const;
  const std::vector<Entry>& entries() const { return entries_; }

  /// Makes the driver for a connection; InvalidArgument naming the valid vendors when the
  /// vendor is unknown.
  Result<std::unique_ptr<Driver>> create(const ConnectionConfig& config,
                                         const DriverEnv& env) const;
  /// "unknown vendor 'sonen' (valid: sonnen)"; empty when known.
  std::string check_vendor(std::string_view name) const;

 private:
  std::vector<Entry> entries_;
};

/// The factory of a driver for a device on the local network: the connection needs a host,
/// `parse(config)` turns its options into `Options`, and `D(config, options, env)` is built.
template <class D, class Parse>
DriverRegistry::Factory local_device_factory(Parse parse) {
  return
      [parse](const ConnectionConfig& c, const DriverEnv& env) -> Result<std::unique_ptr<Driver>> {
        if (c.host.empty())
          return fail(ErrorKind::InvalidArgument,
                      c.where + ": connection '" + c.name + "' needs a host");
        auto o = parse(c);
        if (!o) return fail(o.error());
        return std::unique_ptr<Driver>(std::make_unique<D>(c, *o, env));
      };
}

}  // namespace sb
