// Lifetime counters that stay monotonic across device resets and sunbridge restarts.
//
// A counter that falls back (a replaced meter, a firmware reset to zero) would make daily energy
// negative or lose the past. From such a reset on, the engine stores the device's reading plus
// an offset (the counter's total before the reset), and keeps the reset in the store so that a
// restart goes on with the same offset and backfilled history gets the offset of its time. A
// reading a little below the last one (cloud rounding) is no reset: the last value is kept.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "core/model.hpp"
#include "store/store.hpp"

namespace sb::engine {

/// Whether the metric is a lifetime counter (MetricKind::Counter in the catalogue).
bool is_counter(const Name& metric);

/// One counter's state: the pure rule, for tests and for the guard.
struct CounterTrack {
  double offset = 0;               ///< added to every reading from the last reset on
  std::optional<double> last_raw;  ///< the device's last reading
  std::optional<double> last_out;  ///< the last value stored
  /// A fall larger than this (Wh) is a reset: 1 % of the reading, at least 100 Wh.
  static double reset_threshold(double last_raw);
  struct Step {
    double value;  ///< what to store
    bool reset;    ///< the reading was a reset (the offset grew by the last reading)
    bool held;     ///< a small fall: the last value is kept
  };
  Step next(double raw);
};

/// One counter's backfilled readings (pointers into a batch, in time order) fitted between the
/// stored values around them: made monotonic and kept within [before, after]. A cloud rounds
/// its history and its live values apart (FoxESS: 0.1 kWh), and where the two meet the counter
/// would otherwise fall by that much.
void fit_between(const std::vector<double*>& values, std::optional<double> before,
                 std::optional<double> after);

class CounterGuard {
 public:
  CounterGuard(store::Store& store, boost::asio::thread_pool& blocking);

  /// Makes the counter samples of a poll monotonic (other samples pass as they are). Returns
  /// the resets it found, which it has stored (and the caller reports as events).
  boost::asio::awaitable<std::vector<store::CounterReset>> adjust(std::vector<Sample>& samples);
  /// Gives backfilled counter samples the offset in force at their time.
  boost::asio::awaitable<void> adjust_history(std::vector<Sample>& samples);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace sb::engine
