// A call budget for cloud APIs that count calls per day or per month and pace them per interface
// or per minute (FoxESS: 1440 calls per inverter per day, queries 1/s and writes 1 per 2 s per
// interface; Enphase: a plan's calls per UTC month and per minute). Generic: a driver gives its
// vendor's limits and asks, before each call, whether it may go; the planner spreads what is left
// of the day over the rest of it so live data stays as fresh as the budget allows, keeps a share
// for history and energy counters and a reserve that only commands may use, and never knowingly
// exceeds the vendor's limits. Thread-safe. Its own small library (sb_planner, core only) so
// drivers link it.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "core/clock.hpp"

namespace sb::net {

/// What the budget counts over: a day (from 00:00 UTC + day_offset) or a calendar month in UTC.
enum class QuotaPeriod { Day, Month };

struct QuotaLimits {
  int period_calls = 1440;         ///< per period, all interfaces together
  Millis query_gap{1000};          ///< per interface, between two reads
  Millis write_gap{2000};          ///< per interface, between two writes
  Millis day_offset{0};            ///< the day resets at 00:00 UTC + offset
  double command_reserve = 0.05;   ///< share of the day's calls only commands may use
  double background_share = 0.15;  ///< share meant for history / counters / discovery
  QuotaPeriod period = QuotaPeriod::Day;
  int per_minute = 0;  ///< calls in one fixed clock minute, all interfaces; 0: no such limit
};

enum class CallPurpose { Live, Background, Command };

class QuotaPlanner {
 public:
  QuotaPlanner(const Clock& clock, QuotaLimits limits);

  /// The period's allowance changes (an inverter joined the account, a 429 told the plan).
  void set_period_calls(int calls);
  /// The minute's allowance changes (a 429 told it); 0: none.
  void set_per_minute(int calls);
  /// Takes one call of `interface` for `purpose` if it may go now: paced, within the day's
  /// budget, Live and Background calls leave the command reserve alone. Records it if so.
  bool try_take(const std::string& interface, CallPurpose purpose, bool write = false);
  /// How long until try_take could succeed for pacing alone, the interface's gap or the
  /// minute's limit (0 when it could now).
  Millis pacing_wait(const std::string& interface, bool write = false) const;
  /// The gap between live refreshes costing `calls_per_refresh` calls each, so that the
  /// Live share of what is left lasts until the period resets; never below `floor`.
  Millis live_interval(int calls_per_refresh, Millis floor) const;
  /// Whether a live refresh of `calls_per_refresh` calls is due, the last one having been at
  /// `last` (nullopt: never): never while the live share has no room for it, however long ago
  /// the last one was.
  bool live_due(std::optional<TimePoint> last, int calls_per_refresh, Millis floor) const;
  /// What the vendor says is left (getAccessCount); the planner trusts the smaller count.
  void observe_remaining(int remaining);
  /// The vendor refused a call for its limits (40400): nothing more until the next period,
  /// except after a pacing refusal, which only delays that interface.
  void on_refused(const std::string& interface, bool daily);
  /// The vendor refused a call for the minute's limit: nothing more until the next minute, and
  /// the minute's limit is at most what went through in it.
  void on_minute_refused();

  int used() const;
  int left() const;
  int period_calls() const;
  int per_minute() const;
  /// Calls taken in the current minute.
  int minute_used() const;
  TimePoint next_reset() const;

 private:
  void roll_locked() const;
  int cap_locked(CallPurpose purpose) const;
  bool room_locked(CallPurpose purpose) const;
  const Clock& clock_;
  QuotaLimits limits_;
  mutable std::mutex mutex_;
  mutable std::int64_t day_ = -1;  // the period's index (days, or months since 1970)
  mutable int used_ = 0;
  mutable int live_used_ = 0;  // of used_, the Live calls
  mutable std::int64_t minute_ = -1;
  mutable int minute_used_ = 0;
  std::int64_t period_start_ms(std::int64_t index) const;
  mutable bool exhausted_ = false;
  std::map<std::string, TimePoint> last_;
};

}  // namespace sb::net
