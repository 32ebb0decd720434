#include "core/model.hpp"

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
  }
  return "battery-power";
}

std::optional<CommandType> parse_command_type(std::string_view s) {
  if (s == "battery-power" || s == "battery_power") return CommandType::BatteryPower;
  if (s == "min-soc" || s == "min_soc") return CommandType::MinSoc;
  if (s == "release") return CommandType::Release;
  return std::nullopt;
}

}  // namespace sb
