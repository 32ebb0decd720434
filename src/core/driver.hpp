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
  std::string where;                           ///< "sunbridge.yaml:12" for error messages
};

/// Option `key` of `c`; "" when the connection does not set it.
std::string text_option(const ConnectionConfig& c, const std::string& key);
struct RequiredOption {
  const char* key;
  std::string* value;
  const char* hint;  ///< what it is and where to find it
};
/// Fills each option's value; for the first one missing an InvalidArgument "<where>: connection
/// 'x': option KEY is required: HINT".
Result<void> required_options(const ConnectionConfig& c,
                              std::initializer_list<RequiredOption> options);
/// Option `key` of `c` as a number within lo..hi; an InvalidArgument naming the file, line,
/// connection, key and range otherwise.
Result<double> number_option(const ConnectionConfig& c, const std::string& key, double lo,
                             double hi);
/// Option `key` of `c` in seconds (lo..hi, fractions allowed) as a duration; `fallback` when
/// the connection does not set it; the same error as number_option otherwise.
Result<Millis> seconds_option(const ConnectionConfig& c, const std::string& key, double lo,
                              double hi, Millis fallback);

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
  /// Ends what the driver holds open on the device (a login session, say) when the gateway
  /// stops. No polls run during or after it. Default: nothing to end.
  virtual asio::awaitable<void> close();
  /// The account's call budget, when the vendor counts calls; nullopt otherwise. Thread-safe.
  virtual std::optional<CallBudget> budget() const { return std::nullopt; }
};

}  // namespace sb
