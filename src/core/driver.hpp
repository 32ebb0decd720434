// The driver interface every vendor implements, and the configuration a driver is made from.
// core is std-only except for the light <boost/asio/awaitable.hpp>: the interface's coroutines
// need the awaitable type, nothing else from Asio.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/model.hpp"
#include "core/result.hpp"

namespace sb {

namespace asio = boost::asio;

/// One configured connection (config file `connections:` entry).
struct ConnectionConfig {
  std::string name;
  std::string vendor;
  std::string site;
  std::string host;
  int port = 0;  ///< 0: the vendor's default
  bool tls = false;
  std::chrono::milliseconds poll_interval{10'000};
  std::chrono::milliseconds timeout{5'000};
  std::map<std::string, std::string> options;  ///< vendor-specific keys (secrets expanded)
  std::string where;                           ///< "sunbridge.yaml:12:5" for error messages
  /// The vendor account whose call budget it shares with other connections ("" none): a
  /// fleet's, from its `account` column.
  std::string account;
  /// Where each option's value is ("sunbridge.yaml:18:23"), for its own error messages.
  std::map<std::string, std::string> option_where;
};

/// Reads a connection's vendor options and notes every mistake, each at the option's own place
/// in the file ("sunbridge.yaml:18:23: connection 'bat': option ..."), so one run of
/// check-config names them all. A driver's parse_options reads every option, then returns
/// result(options).
class OptionReader {
 public:
  explicit OptionReader(const ConnectionConfig& c) : c_(c) {}
  bool has(const std::string& key) const { return c_.options.contains(key); }
  /// The option as it is; "" when the connection does not set it.
  std::string text(const std::string& key) const;
  /// The option; when absent or empty, "option KEY is required: HINT" is noted.
  std::string required(const std::string& key, std::string_view hint);
  /// The option as a number within lo..hi; `fallback` when absent; noted otherwise.
  double number(const std::string& key, double lo, double hi, double fallback);
  /// The option in seconds (lo..hi, fractions allowed) as a duration; `fallback` when absent.
  Millis seconds(const std::string& key, double lo, double hi, Millis fallback);
  /// The option when it is one of `choices`; `fallback` when absent; noted otherwise.
  std::string choice(const std::string& key, std::initializer_list<std::string_view> choices,
                     std::string fallback);
  /// Notes a mistake: about option `key`, or (key "") about the connection as a whole.
  void refuse(const std::string& key, const std::string& message);
  bool ok() const { return errors_.empty(); }
  /// `value`, or an InvalidArgument with every noted mistake, one per line.
  template <class T>
  Result<T> result(T value) const {
    if (!errors_.empty()) return std::unexpected(error());
    return value;
  }

 private:
  Error error() const;
  const ConnectionConfig& c_;
  std::vector<std::string> errors_;
};

/// Everything a driver may use that lives outside core (executor, HTTP client, clock).
/// Defined in net/driver_env.hpp; core only passes it through.
struct DriverEnv;

/// A vendor account's call budget as the driver's planner sees it.
struct CallBudget {
  int used = 0;
  int limit = 0;          ///< calls in the current period
  TimePoint resets_at{};  ///< when the period starts again
};

class Driver {
 public:
  virtual ~Driver() = default;
  /// Finds the devices this connection reaches.
  virtual asio::awaitable<Result<std::vector<DeviceInfo>>> discover() = 0;
  /// Reads live values.
  virtual asio::awaitable<Result<Snapshot>> poll(const DeviceInfo& device) = 0;
  virtual Capabilities capabilities(const DeviceInfo& device) const = 0;
  /// Historic values; NotSupported unless the vendor offers history.
  virtual asio::awaitable<Result<std::vector<Sample>>> history(const DeviceInfo& device,
                                                               TimeRange range);
  /// Applies a command and reads it back; NotSupported unless overridden.
  virtual asio::awaitable<Result<CommandOutcome>> apply(const DeviceInfo& device,
                                                        const Command& command);
  /// The device's current settings: for each command it takes that sets something lasting, the
  /// value it has now. Costs vendor calls (within a cloud's budget): the gateway reads them
  /// when someone asks, not per poll. Default: none.
  virtual asio::awaitable<Result<std::vector<Setting>>> settings(const DeviceInfo& device);
  /// Ends what the driver holds open on the device (a login session, say) when the gateway
  /// stops. No polls run during or after it. Default: nothing to end.
  virtual asio::awaitable<void> close();
  /// The account's call budget, when the vendor counts calls; nullopt otherwise. Thread-safe.
  virtual std::optional<CallBudget> budget() const { return std::nullopt; }
};

}  // namespace sb
