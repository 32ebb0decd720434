// Gap detection and backfill, one Backfiller per connection (on its strand).
//
// After each successful poll the engine compares the snapshot's time with the device's last
// value (from the store at start, so sunbridge's own downtime counts too); a hole longer than
// the poll plan allows is recorded as a gap. Open gaps are then filled a day at a time, between
// polls, through the driver's history() (which keeps within the vendor's ranges and budgets);
// what the history does not give is recorded per metric, and lifetime counters across what is
// left are estimated hour by hour between the values either side. Replays never duplicate a
// sample (the store's key) and never replace a better value with a worse one.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/driver.hpp"
#include "engine/counters.hpp"
#include "store/store.hpp"

namespace sb::engine {

/// A hole between two values longer than this is a gap: three polls (or three of the vendor's
/// own updates, when they are slower), and at least a minute.
Millis gap_threshold(Millis poll_interval, Millis data_interval);

/// The metrics gap accounting follows: canonical ones except device.online, which is only
/// written when it changes.
bool tracked_metric(const Name& metric);

/// The holes longer than `tolerance` that `times` (sorted or not) leave in `range`; the ends of
/// the range count as values (they are the samples either side of a gap).
std::vector<TimeRange> uncovered(std::vector<TimePoint> times, TimeRange range, Millis tolerance);

/// How far apart a metric's history values may be and still count as complete: two and a half
/// history steps (15 minutes when the step is not known), at least the gap threshold; counters
/// at least 90 minutes, since hourly counter values are complete for energy accounting.
Millis history_tolerance(std::string_view metric, Millis history_step, Millis threshold);

/// Estimated values of a lifetime counter at every whole hour strictly between (t0, v0) and
/// (t1, v1), on the straight line between them. Empty when the counter went down (a reset: the
/// line would be wrong) or when no whole hour lies between.
std::vector<Sample> interpolate_counter(const std::string& device, const std::string& metric,
                                        TimePoint t0, double v0, TimePoint t1, double v1);

struct BackfillStats {
  std::int64_t gaps_found = 0;
  std::int64_t samples_backfilled = 0;
  std::int64_t samples_estimated = 0;
  std::int64_t samples_implausible = 0;  ///< history values outside their metric's range
  std::int64_t gaps_unfilled = 0;        ///< gaps backfill finished with values still missing
  std::int64_t open = 0;                 ///< gaps waiting for backfill
};

class Backfiller {
 public:
  struct Deps {
    const Clock& clock;
    store::Store& store;
    boost::asio::thread_pool& blocking;
    Driver& driver;
    std::string vendor;
    Millis poll_interval;
    CounterGuard* counters = nullptr;  ///< gives backfilled counters the offset of their time
    /// Where its events go (the gateway stores and logs them); null: straight to the store.
    std::function<void(Event)> record;
  };
  explicit Backfiller(Deps deps);

  /// Loads the connection's open gaps and each device's newest stored value (sunbridge's own
  /// downtime is a gap too). Call once before the first poll.
  boost::asio::awaitable<void> load(const std::vector<DeviceInfo>& devices);
  /// A poll of `device` failed: the hole it leaves, if it grows into a gap, has this reason.
  void poll_failed(const std::string& device, const Error& error);
  /// A poll succeeded: records a gap when the hole since the device's last value is too long.
  /// Returns the gap recorded, if any.
  boost::asio::awaitable<std::optional<Gap>> poll_succeeded(const DeviceInfo& device,
                                                            const Snapshot& snapshot);
  /// Samples the store could not keep: each stretch becomes a gap like any other (filled from
  /// the vendor's history where it has one), recorded as soon as the database takes it (it may
  /// be the database that refused them; call this between polls, with nothing new too).
  boost::asio::awaitable<void> samples_dropped(std::vector<store::DroppedSamples> lost);
  /// Does one step of backfill (at most a day of the gap that is due first). Returns false when
  /// nothing was due.
  boost::asio::awaitable<bool> step(const std::vector<DeviceInfo>& devices);

  BackfillStats stats() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace sb::engine
