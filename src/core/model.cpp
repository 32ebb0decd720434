#include "core/model.hpp"

#include <algorithm>

namespace sb {

std::string_view to_string(Quality q) {
  switch (q) {
    case Quality::Measured:
      return "measured";
    case Quality::Backfilled:
      return "backfilled";
    case Quality::Estimated:
      return "estimated";
    case Quality::Stale:
      return "stale";
  }
  return "measured";
}

std::string_view to_string(Severity s) {
  switch (s) {
    case Severity::Info:
      return "info";
    case Severity::Warning:
      return "warning";
    case Severity::Error:
      return "error";
  }
  return "info";
}

std::string_view to_string(CommandType t) {
  switch (t) {
    case CommandType::BatteryPower:
      return "battery-power";
    case CommandType::MinSoc:
      return "min-soc";
    case CommandType::Release:
      return "release";
    case CommandType::MinHomeConsumption:
      return "min-home-consumption";
    case CommandType::BatteryStrategy:
      return "battery-strategy";
    case CommandType::SmartControl:
      return "smart-control";
    case CommandType::TimeControl:
      return "time-control";
    case CommandType::ExportLimit:
      return "export-limit";
    case CommandType::MinSocOffGrid:
      return "min-soc-off-grid";
    case CommandType::TouSchedule:
      return "tou-schedule";
    case CommandType::ChargeWindows:
      return "charge-windows";
    case CommandType::PeakShaving:
      return "peak-shaving";
  }
  return "battery-power";
}

std::optional<CommandType> parse_command_type(std::string_view s) {
  if (s == "battery-power" || s == "battery_power") return CommandType::BatteryPower;
  if (s == "min-soc" || s == "min_soc") return CommandType::MinSoc;
  if (s == "release") return CommandType::Release;
  if (s == "min-home-consumption" || s == "min_home_consumption")
    return CommandType::MinHomeConsumption;
  if (s == "battery-strategy" || s == "battery_strategy") return CommandType::BatteryStrategy;
  if (s == "smart-control" || s == "smart_control") return CommandType::SmartControl;
  if (s == "time-control" || s == "time_control") return CommandType::TimeControl;
  if (s == "export-limit" || s == "export_limit") return CommandType::ExportLimit;
  if (s == "min-soc-off-grid" || s == "min_soc_off_grid") return CommandType::MinSocOffGrid;
  if (s == "tou-schedule" || s == "tou_schedule") return CommandType::TouSchedule;
  if (s == "charge-windows" || s == "charge_windows") return CommandType::ChargeWindows;
  if (s == "peak-shaving" || s == "peak_shaving") return CommandType::PeakShaving;
  return std::nullopt;
}

std::string command_type_names() {
  return "battery-power, min-soc, release, min-home-consumption, battery-strategy, "
         "smart-control, time-control, export-limit, min-soc-off-grid, tou-schedule, "
         "charge-windows, peak-shaving";
}

Result<std::vector<std::string>> parse_gap_statuses(std::string_view list, std::string_view what) {
  std::vector<std::string> out;
  while (!list.empty()) {
    auto comma = list.find(',');
    auto one = list.substr(0, comma);
    if (std::find(std::begin(kGapStatuses), std::end(kGapStatuses), one) == std::end(kGapStatuses))
      return fail(ErrorKind::InvalidArgument,
                  std::string(what) + " '" + std::string(one) +
                      "' is not one of open, filled, partial, estimated, unfillable");
    out.emplace_back(one);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
  }
  return out;
}

bool command_takes_argument(CommandType t) {
  return t == CommandType::BatteryStrategy || t == CommandType::TimeControl ||
         t == CommandType::TouSchedule || t == CommandType::ChargeWindows ||
         t == CommandType::PeakShaving;
}

std::optional<std::string> check_weekly_plan(std::string_view text) {
  static constexpr const char* kDays[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                          "Friday", "Saturday", "Sunday"};
  if (text == "off") return std::nullopt;
  std::size_t start = 0;
  for (int d = 0; d < 7; ++d) {
    auto comma = text.find(',', start);
    auto end = comma == std::string_view::npos ? text.size() : comma;
    auto day = text.substr(start, end - start);
    if (day.size() != 96)
      return std::string(kDays[d]) + " has " + std::to_string(day.size()) +
             " characters; 96 quarter hours expected";
    if (auto bad = day.find_first_not_of("012"); bad != std::string_view::npos)
      return std::string(kDays[d]) + " quarter hour " + std::to_string(bad) + " is '" +
             std::string(1, day[bad]) + "'; 0 (free), 1 (no charging) or 2 (no discharging)";
    if (d < 6 && comma == std::string_view::npos)
      return "7 days expected, separated by commas; found " + std::to_string(d + 1);
    if (d == 6 && comma != std::string_view::npos) return "more than 7 days";
    start = end + 1;
  }
  return std::nullopt;
}

}  // namespace sb
