// A call budget for cloud APIs that count calls per day or per month and pace them per interface
// or per minute (FoxESS: 1440 calls per inverter per day, queries 1/s and writes 1 per 2 s per
// interface; Enphase: a plan's calls per UTC month and per minute). Generic: a driver gives its
// vendor's limits and asks, before each call, whether it may go; the planner spreads what is left
// of the day over the rest of it so live data stays as fresh as the budget allows, keeps a share
// for history and energy counters and a reserve that only commands may use, and never knowingly
// exceeds the vendor's limits. Thread-safe. Its own small library (sb_planner, core only) so
// drivers link it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/clock.hpp"
#include "core/result.hpp"

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

/// A vendor account's calls shared by several connections, in one process or across a fleet's
/// workers (engine/fleet_budget.hpp keeps them in PostgreSQL): each planner of the account
/// reserves small slices of a window ahead of its calls, so that together they never exceed
/// the account's limit.
class QuotaLedger {
 public:
  struct Grant {
    int granted = 0;  ///< calls reserved for the asker (0: the window has none left)
    int used = 0;     ///< the account's calls reserved in the window, this grant included
    int limit = 0;    ///< the window's limit (the largest any of its connections gave)
    int sharers = 1;  ///< connections that reserved in the window
  };
  virtual ~QuotaLedger() = default;
  /// Reserves up to `want` calls of `account`'s `window` ("day:20400", "minute:29376000") for
  /// `connection`, against `limit`. Blocking (a database round trip).
  virtual Result<Grant> reserve(const std::string& account, const std::string& window,
                                const std::string& connection, int want, int limit) = 0;
  /// Takes the next moment a call of `account`'s `interface` may go, `gap` after the account's
  /// call of it before (from any connection): how long to wait from now. With `answered`, a
  /// call was answered now: the next moment is at least `gap` from now (0 returned). Blocking.
  virtual Result<Millis> pace(const std::string& account, const std::string& interface, Millis gap,
                              bool answered) = 0;
};

class QuotaPlanner {
 public:
  QuotaPlanner(const Clock& clock, QuotaLimits limits);

  /// The account's calls are shared with other connections through `ledger`: every call also
  /// needs a reserved slice of the account's period (and minute, where the vendor counts one).
  /// Slices are asked for ahead, off the caller's thread, through `post` (which runs its work
  /// on a thread that may block); until one comes, calls wait as for any other limit.
  void share(QuotaLedger& ledger, std::string account, std::string connection,
             std::function<void(std::function<void()>)> post);
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
  /// A call of `interface` was answered: the vendor took it at some moment between its sending
  /// and now, so the next one is paced from now (`hold` later still: a call given up on may be
  /// taken after that). A call the vendor was slow to take (a queue at its end, an overloaded
  /// host) would otherwise be followed by the next one within the gap as the vendor counts it.
  void answered(const std::string& interface, Millis hold = Millis(0));
  /// The vendor refused a call for the minute's limit: nothing more until the next minute, and
  /// the minute's limit is at most what went through in it.
  void on_minute_refused();

  int used() const;
  int left() const;
  /// A shared account's slice is on its way (asked for, not here yet): a call that waits a
  /// moment gets it. False when the ledger answered that the period is spent, or failed.
  bool waiting_for_ledger() const;
  /// Why the account's ledger did not answer last ("" when it did, or none is shared).
  std::string ledger_error() const;
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

  // The account's ledger (share()). What the reservations brought lives apart from the
  // planner, so that one still on its way when the planner goes (a connection reloaded) has
  // somewhere to land.
  struct Slices {
    std::mutex m;
    std::int64_t day = -1, minute = -1;  // the windows the calls below are of
    int period = 0, per_minute = 0;      // reserved, not yet used
    bool asking = false;
    std::int64_t spent_day = -1;     // the ledger had nothing left of this period
    std::int64_t spent_minute = -1;  // nor of this minute
    std::optional<int> fair_left;    // the account's calls left over its sharers, last heard
    std::string error;               // the last reservation's failure
  };
  void ask_locked() const;
  int calls_locked() const;
  QuotaLedger* ledger_ = nullptr;
  std::string account_, connection_;
  std::function<void(std::function<void()>)> post_;
  std::shared_ptr<Slices> slices_;
};

}  // namespace sb::net
