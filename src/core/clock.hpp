// Time. Everything that waits or stamps takes a Clock&, so tests advance time instead of sleeping.
#pragma once

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
};

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
  double speed() const { return speed_; }

 private:
  TimePoint start_;
  std::chrono::steady_clock::time_point real_start_;
  double speed_;
};

}  // namespace sb
