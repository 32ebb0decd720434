// The gateway in the Prometheus text exposition format (version 0.0.4), served at /metrics
// (docs/prometheus.md). Canonical metrics follow Prometheus naming: base units in the name
// (`_watts`; energy as `_joules_total` for lifetime counters, Wh times 3600, since promtool
// takes only base units; `_ratio` for percentages, divided by 100), the index of a PV string
// or grid phase as a label, and `site`, `device` and
// `vendor` on every device series. Then the engine's own: poll durations as a histogram, poll
// errors by kind, call budgets of vendor accounts, last successes and the store's queue.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/gateway_api.hpp"
#include "core/metric.hpp"
#include "store/store.hpp"

namespace sb::prometheus {

struct Name {
  std::string family;                                       ///< "sunbridge_pv_string_power_watts"
  std::vector<std::pair<std::string, std::string>> labels;  ///< {"string", "2"}
  MetricKind kind = MetricKind::Gauge;
  double multiply = 1, divide = 1;  ///< Wh -> J: times 3600; % -> ratio: divided by 100
  double value_of(double v) const { return v * multiply / divide; }
  std::string_view help;
};

/// The Prometheus name of a canonical metric id; nullopt for vendor and unknown ids.
std::optional<Name> name_of(std::string_view id);

/// How much /metrics says. Per connection always: its state (up), last success and failures;
/// per vendor: connections by state and poll lateness. `Devices` adds every device's values
/// and, per connection, its work (polls, errors by kind, durations, gaps, call budget);
/// `Vendors` gives that work summed per vendor instead, so that the answer's size does not grow
/// with the devices' values (10,000 devices: megabytes, not tens). `Auto`: `Devices` while the
/// gateway polls at most kAutoDetailConnections connections (a home), else `Vendors`.
enum class Detail { Auto, Devices, Vendors };
inline constexpr std::size_t kAutoDetailConnections = 100;
/// Whether `detail` gives per-device detail for a gateway with `connections` connections.
bool per_device(Detail detail, std::size_t connections);

/// Everything, as the body of a /metrics response ("text/plain; version=0.0.4"); a fleet
/// worker's own figures too when `fleet` has them.
std::string render(const GatewayApi& gateway, const store::StoreStats& store,
                   const std::optional<FleetWorkerStats>& fleet = std::nullopt,
                   Detail detail = Detail::Auto);

/// A label value escaped for the format (backslash, double quote, line feed).
std::string escape_label(std::string_view v);

}  // namespace sb::prometheus
