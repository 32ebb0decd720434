// Time. Everything that waits or stamps takes a Clock&, so tests advance time instead of sleeping.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>

namespace sb {

/// UTC, millisecond resolution: the time of every Sample, Event and audit row.
using TimePoint = std::chrono::sys_time<std::chrono::milliseconds>;
using Millis = std::chrono::milliseconds;

/// Milliseconds since the Unix epoch, the storage form of a TimePoint.
inline std::int64_t to_ms(TimePoint t) {
  return t.time_since_epoch().count();
}
inline TimePoint from_ms(std::int64_t ms) {
  return TimePoint(Millis(ms));
}

/// "2026-11-21T10:15:00.250Z"; milliseconds are omitted when zero.
std::string format_iso8601(TimePoint t);
/// "12 s", "4 min 05 s", "2 h 05 min": a length for people (an outage, a gap).
std::string duration_text(Millis d);
/// Parses "2026-11-21T10:15:00Z", "...+01:00", "....250Z", "2026-11-21" (midnight UTC) or epoch
/// milliseconds; false on anything else.
bool parse_iso8601(std::string_view text, TimePoint& out);

}  // namespace sb

#include "core/result.hpp"

namespace sb {

/// "10s", "500ms", "2m", "1h", "365d", or a bare number of seconds; InvalidArgument otherwise.
Result<Millis> parse_duration(std::string_view text);

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
  /// How many of this clock's milliseconds pass in a real one: 1 for the system clock, the
  /// speed of an accelerated one. A wait that is part of a schedule (the next poll, a retry's
  /// backoff) lasts real_wait() of it; a timeout on a socket stays real.
  virtual double rate() const { return 1.0; }
};

/// How long to wait in real time for `d` of `clock`'s time to pass (at least 1 ms for a
/// positive `d`, so that a fast clock does not turn waits into a busy loop).
inline Millis real_wait(const Clock& clock, Millis d) {
  const double rate = clock.rate();
  if (rate == 1.0 || d.count() <= 0) return d;
  return Millis(std::max<std::int64_t>(1, static_cast<std::int64_t>(d.count() / rate)));
}

/// The system clock.
class RealClock final : public Clock {
 public:
  TimePoint now() const override;
};

/// A clock tests move by hand. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start) : ms_(to_ms(start)) {}
  TimePoint now() const override { return from_ms(ms_.load()); }
  void set(TimePoint t) { ms_.store(to_ms(t)); }
  void advance(Millis d) { ms_.fetch_add(d.count()); }

 private:
  std::atomic<std::int64_t> ms_;
};

/// Accelerated time for simulators and demos: starts at `start` and runs `speed` times faster
/// than the system clock (speed 1 = real time, 60 = an hour per minute).
class ScaledClock final : public Clock {
 public:
  ScaledClock(TimePoint start, double speed);
  TimePoint now() const override;
  double rate() const override { return speed_; }
  double speed() const { return speed_; }

  /// A timeline several processes share (`--speed S --origin T`): at wall-clock time `wall` it
  /// reads `origin + (wall - origin) * speed`, so a process started later, or restarted, joins
  /// the same simulated time as the others. `origin` must not be after `wall`.
  static ScaledClock on_timeline(TimePoint origin, double speed, TimePoint wall);

 private:
  TimePoint start_;
  std::chrono::steady_clock::time_point real_start_;
  double speed_;
};

}  // namespace sb
