// The simulator's value channels (an inferred design in the style of the public client's
// `ProdPdc` and `ProdEtotal`; docs/vendors/solarlog.md lists them): which component types carry
// each channel, and its values for a period at the period's resolution (day and range: 5-minute
// values; month: daily; year: monthly; lifetime: yearly).
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "vendors/solarlog/plant_model.hpp"

namespace sb::solarlog {

enum class ChannelKind {
  Power,    ///< W (or V, A, W/m², °C): a mean over each 5-minute slot; no coarser resolution
  Energy,   ///< Wh in each interval
  Counter,  ///< Wh since the installation, at each interval's end
  Level,    ///< % at each interval's end
};

struct Channel;
/// nullptr for a name the portal does not know.
const Channel* find_channel(std::string_view name);
std::string_view channel_name(const Channel& c);
ChannelKind channel_kind(const Channel& c);
/// Every channel's name, for error messages.
std::string channel_names();

/// Local days since 1970-01-01 of a calendar date; nullopt when there is no such date.
std::optional<std::int64_t> day_number(int year, int month, int day);
/// "YYYY-MM-DD" of a day number.
std::string day_string(std::int64_t day);

struct Period {
  enum Kind { Day, Month, Year, Lifetime } kind = Day;
  int year = 0, month = 0;
  std::int64_t day = 0;  ///< Day: days since 1970-01-01 (local)
};

/// Why `channel` cannot be read for `component` (nullptr: the plant) over `period`; empty when
/// it can.
std::string refusal(const PlantModel& model, const Channel& channel, const Component* component,
                    const Period& period);
/// {name, date, resolution, unit, dataPoints[, componentId]}; dataPoints holds null where
/// there is no value (not yet measured, before the installation).
boost::json::object series(PlantModel& model, const Channel& channel, const Component* component,
                           const Period& period, TimePoint now);

}  // namespace sb::solarlog
