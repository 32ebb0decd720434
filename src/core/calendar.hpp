// Local calendar arithmetic for simulators whose vendors count days, months and years in a
// plant's time zone (KOSTAL day statistics, FoxESS reports). Zones are IANA names.
#pragma once

#include <string>

#include "core/clock.hpp"

namespace sb {

struct LocalFields {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
};

class Calendar {
 public:
  /// Throws std::runtime_error for an unknown zone (validate the name first).
  explicit Calendar(const std::string& zone);
  /// 00:00 local of the day `t` falls in, and of the next day (DST-correct).
  TimePoint midnight(TimePoint t) const;
  TimePoint next_midnight(TimePoint t) const;
  LocalFields fields(TimePoint t) const;
  /// The instant of a local wall-clock time (the earlier one in a DST fold).
  TimePoint at(int year, int month, int day, int hour = 0) const;
  /// "2026-04-07 10:44:04 AEST+1000": local time, zone abbreviation and offset.
  std::string stamp_with_zone(TimePoint t) const;

 private:
  const void* zone_;  // const date::time_zone*, kept out of this header
};

}  // namespace sb
