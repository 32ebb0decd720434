// What the outputs (REST, MQTT, Prometheus) see of a running gateway. The engine implements
// it; outputs depend only on this interface, so the dependency arrows keep pointing down.
#pragma once

#include <algorithm>
#include <array>
#include <boost/asio/awaitable.hpp>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/driver.hpp"
#include "core/model.hpp"
#include "core/result.hpp"

namespace sb {

struct LiveValue {
  Name metric;
  TimePoint time;
  double value = 0;
  Quality quality = Quality::Measured;
};

struct DeviceLive {
  DeviceInfo device;
  bool online = false;  ///< answering with current values
  bool stale = false;   ///< answering, but with values older than the poll plan allows
  std::optional<TimePoint> last_success;
  std::vector<LiveValue> values;
};

/// Upper bounds (seconds) of the poll-duration histogram every connection keeps.
inline constexpr double kPollLatencyBuckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                 0.5,   1,    2.5,   5,    10,  30};
inline constexpr std::size_t kPollLatencyBucketCount = std::size(kPollLatencyBuckets);

/// Upper bounds (seconds) of the poll-lateness histogram: how long after it was due a poll
/// round of a connection started (its previous round ran over its interval, or the gateway was
/// too busy to start it on time).
inline constexpr double kPollLatenessBuckets[] = {0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60};
inline constexpr std::size_t kPollLatenessBucketCount = std::size(kPollLatenessBuckets);

/// Whether a round that started `lateness` after it was due is a late poll: later than a
/// tenth of its interval, and at least a second late.
inline bool is_late_poll(Millis lateness, Millis interval) {
  return lateness > std::max(Millis(1000), interval / 10);
}

/// Every state a connection's health can be in; a fleet's connections nobody holds: "unheld".
inline constexpr std::string_view kConnectionStates[] = {"starting", "ok", "failing",
                                                         "needs_credentials", "unheld"};

struct ConnectionHealth {
  std::string name;
  std::string vendor;
  std::string site;    ///< the site its devices belong to
  std::string state;   ///< "starting", "ok", "failing", "needs_credentials"; a fleet's: "unheld"
  std::string worker;  ///< the fleet worker polling it ("" outside a fleet)
  std::optional<TimePoint> last_success;
  std::string last_error;
  std::int64_t polls = 0;
  std::int64_t failures = 0;
  std::int64_t consecutive_failures = 0;
  double last_latency_ms = 0;
  /// Successful polls by duration: [i] counts those in (bound[i-1], bound[i]]; the last entry
  /// those above every bound. Sum in seconds.
  std::array<std::uint64_t, kPollLatencyBucketCount + 1> latency_counts{};
  double latency_sum_s = 0;
  /// Poll rounds started on a plan (after a successful round), by how late they started
  /// ([i] as for latency_counts), and how many of them were late polls (is_late_poll).
  std::int64_t rounds_planned = 0;
  std::int64_t polls_late = 0;
  std::array<std::uint64_t, kPollLatenessBucketCount + 1> lateness_counts{};
  double lateness_sum_s = 0;
  /// Failed polls by error kind ("transport", "auth", ...).
  std::map<std::string, std::int64_t> failures_by_kind;
  /// The vendor account's call budget, for drivers that keep one.
  std::optional<CallBudget> budget;
  /// Gaps in history found since the start, those still waiting for backfill, and the samples
  /// the vendor's history gave and those estimated (counters across what it did not).
  /// Vendor values not stored because they were outside what their metric can be (live and
  /// history).
  std::int64_t implausible_values = 0;
  std::int64_t gaps_found = 0;
  std::int64_t gaps_open = 0;
  std::int64_t gaps_unfilled = 0;  ///< finished with values still missing (partial, unfillable…)
  std::int64_t samples_backfilled = 0;
  std::int64_t samples_estimated = 0;
};

/// A site's energy-balance checks (pv + import + discharge = load + export + charge, hourly).
struct SiteQuality {
  std::string site;
  std::int64_t balance_checks = 0;       ///< hours judged
  std::int64_t balance_flagged = 0;      ///< hours off by more than the tolerance
  std::int64_t balance_uncheckable = 0;  ///< hours that could not be judged (see last_result)
  std::optional<TimePoint> last_window;  ///< start of the last hour looked at
  double last_in_wh = 0, last_out_wh = 0, last_residual_wh = 0;
  bool last_flagged = false;
  std::string last_result;  ///< describe() of the last hour
};

/// A fleet worker's own share of the work (its /metrics): what it holds and did.
struct FleetWorkerStats {
  std::string worker;
  std::int64_t leases_held = 0;
  std::int64_t connections = 0;    ///< the fleet's, as last counted
  std::int64_t workers_alive = 0;  ///< as last counted, this one included
  std::int64_t taken = 0;          ///< connections claimed since the start
  std::int64_t handed_back = 0;    ///< given back (a fair share, a key that does not open it)
  std::int64_t lost = 0;           ///< lost to another worker or to a late renewal
  std::int64_t round_failures = 0;
  std::int64_t commands_run = 0;          ///< taken from the queue and run here
  std::int64_t commands_refused = 0;      ///< taken from the queue and refused here
  std::int64_t commands_forwarded = 0;    ///< queued here for another worker's device
  std::optional<TimePoint> view_read_at;  ///< when the other workers' status was last read
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
  /// Data-quality checks per site.
  virtual std::vector<SiteQuality> quality() const { return {}; }
  /// The device's settings (the values its commands change), from the last read unless
  /// `refresh` or none was read since the last command; NotFound for an unknown device.
  virtual boost::asio::awaitable<Result<DeviceSettings>> settings(std::string device,
                                                                  bool refresh) = 0;
  /// The events raised since `after` (a sequence number; 0: from the oldest kept), oldest
  /// first, each with its sequence number: what the MQTT output passes on. Keeps the last
  /// thousand.
  virtual std::vector<std::pair<std::uint64_t, Event>> events_after(std::uint64_t after) const {
    (void)after;
    return {};
  }
  /// Validates, applies, verifies and audits a command; the audit row comes back.
  virtual boost::asio::awaitable<Result<CommandRecord>> execute(Command command) = 0;
  /// What this process polls itself (a fleet worker's view shows the whole fleet, its
  /// /metrics only its own work).
  virtual const GatewayApi& own() const { return *this; }
  /// A fleet worker's own figures; none outside a fleet.
  virtual std::optional<FleetWorkerStats> fleet() const { return std::nullopt; }
};

}  // namespace sb
