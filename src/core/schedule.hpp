// Battery schedules as vendors offer them, in one text form that the REST API, the CLI and
// the audit carry as a command's argument:
//
//   time-of-use schedule   "off", or segments in local time separated by ';':
//                          "00:00-05:00 charge power=3000 max-soc=90; 17:00-21:00 discharge
//                          power=2500 min-soc=20; 21:00-24:00 backup"
//   charge windows         "off", or "HH:MM-HH:MM" windows separated by ',' in which the
//                          battery charges from the grid: "02:00-05:00,13:30-15:00"
//   peak shaving           "off", or "limit=W soc=%": grid import above limit is covered by
//                          the battery while its SoC is above soc
//
// Times are local wall-clock minutes of the device's site; a segment's end is exclusive and
// may be 24:00. Modes: self-use (self-consumption; min-soc is the reserve), feed-in (PV goes
// to the house and the grid, the battery is not charged), backup (the battery is kept for
// outages), charge (at power W, PV first then the grid, up to max-soc), discharge (at power W,
// the house first then the grid, down to min-soc).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace sb {

enum class TouMode { SelfUse, FeedIn, Backup, Charge, Discharge };
std::string_view to_string(TouMode m);
/// "self-use, feed-in, backup, charge, discharge"
std::string tou_mode_names();

struct TouSegment {
  int start_minute = 0;  ///< from local midnight, 0..1439
  int end_minute = 0;    ///< exclusive, start+1..1440
  TouMode mode = TouMode::SelfUse;
  std::optional<double> power_w;          ///< charge / discharge power, W (> 0)
  std::optional<double> min_soc_percent;  ///< reserve, or where a discharge stops
  std::optional<double> max_soc_percent;  ///< where a charge stops
  bool operator==(const TouSegment&) const = default;
};

/// Segments sorted by start; empty: off.
using TouSchedule = std::vector<TouSegment>;

/// Parses and checks a schedule; InvalidArgument naming the segment and what is wrong
/// (syntax, order, overlap, a charge without power, SoC outside 0..100).
Result<TouSchedule> parse_tou_schedule(std::string_view text);
/// The canonical text ("off" when empty); parse_tou_schedule(format(s)) == s.
std::string format_tou_schedule(const TouSchedule& s);

struct TimeWindow {
  int start_minute = 0;  ///< from local midnight
  int end_minute = 0;    ///< exclusive, up to 1440
  bool operator==(const TimeWindow&) const = default;
};
/// "off" or comma-separated "HH:MM-HH:MM" windows, sorted, not overlapping.
Result<std::vector<TimeWindow>> parse_time_windows(std::string_view text);
std::string format_time_windows(const std::vector<TimeWindow>& w);

struct PeakShaving {
  double import_limit_w = 0;
  double min_soc_percent = 0;
  bool operator==(const PeakShaving&) const = default;
};
/// "off" (nullopt) or "limit=W soc=%".
Result<std::optional<PeakShaving>> parse_peak_shaving(std::string_view text);
std::string format_peak_shaving(const std::optional<PeakShaving>& p);

/// "HH:MM" of minutes from midnight (1440 is "24:00").
std::string format_minutes(int minutes);

}  // namespace sb
