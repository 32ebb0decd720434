// What the outputs (REST, MQTT, Prometheus) see of a running gateway. The engine implements
// it; outputs depend only on this interface, so the dependency arrows keep pointing down.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/model.hpp"
#include "core/result.hpp"

namespace sb {

struct LiveValue {
  std::string metric;
  TimePoint time;
  double value = 0;
  Quality quality = Quality::Measured;
};

struct DeviceLive {
  DeviceInfo device;
  bool online = false;
  std::optional<TimePoint> last_success;
  std::vector<LiveValue> values;
};

struct ConnectionHealth {
  std::string name;
  std::string vendor;
  std::string state;  ///< "starting", "ok", "failing", "needs_credentials"
  std::optional<TimePoint> last_success;
  std::string last_error;
  std::int64_t polls = 0;
  std::int64_t failures = 0;
  std::int64_t consecutive_failures = 0;
  double last_latency_ms = 0;
};

class GatewayApi {
 public:
  virtual ~GatewayApi() = default;
  virtual std::vector<Site> sites() const = 0;
  virtual std::vector<DeviceInfo> devices() const = 0;
  virtual std::optional<DeviceInfo> device(const std::string& id) const = 0;
  virtual std::optional<Capabilities> capabilities(const std::string& device) const = 0;
  virtual std::vector<DeviceLive> live() const = 0;
  virtual std::vector<ConnectionHealth> health() const = 0;
  /// Validates, applies, verifies and audits a command; the audit row comes back.
  virtual boost::asio::awaitable<Result<CommandRecord>> execute(Command command) = 0;
};

}  // namespace sb
