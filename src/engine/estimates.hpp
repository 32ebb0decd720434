// Energy for devices that report no lifetime counters (a sonnen on API v1 gives powers only):
// their power integrated into counters, stored with quality `estimated`, so that daily energy,
// the dashboard's energy view and Home Assistant's Energy dashboard work for them. A device
// that reports a measured counter keeps it: nothing is estimated for that metric.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/model.hpp"
#include "store/store.hpp"

namespace sb::engine {

/// One counter being integrated: the pure rule, for tests and the estimator.
struct Integral {
  double total_wh = 0;
  std::optional<TimePoint> last_time;
  double last_w = 0;
  /// Adds the trapezoid from the last reading to (t, watts), when it is no further back than
  /// `max_gap` (a longer hole is a gap, not a steady power); returns whether it added.
  bool add(TimePoint t, double watts, Millis max_gap);
};

/// Which counters a power metric feeds: the positive part of it into `positive`, the negative
/// part (sign flipped) into `negative` ("" for none). grid.power: import / export; battery.power:
/// discharge / charge; pv, load and EV power: their yield, consumption and charge.
struct PowerToEnergy {
  std::string_view power, positive, negative;
};
std::span<const PowerToEnergy> power_to_energy();

class EnergyEstimator {
 public:
  EnergyEstimator(store::Store& store, boost::asio::thread_pool& blocking);
  /// Adds estimated counter samples to a poll's samples for every counter the device does not
  /// measure, integrating its powers (a hole longer than `max_gap` adds nothing). A counter
  /// goes on from its last stored value after a restart. A counter the device has reported
  /// (in a poll, or as the newest stored value) is its own from then on: a poll without it
  /// (a cloud that sends counters every 15 minutes and powers every 5) gets no estimate,
  /// which would sit beside the device's readings at another level.
  boost::asio::awaitable<void> add(const DeviceInfo& device, std::vector<Sample>& samples,
                                   Millis max_gap);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace sb::engine
