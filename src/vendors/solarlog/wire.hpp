// The Solar-Log WEB Enerest answers as the client decodes them (shared/specs/solarlog.md): one
// struct per body the driver uses, names as the portal has them. The mapping (mapping.hpp)
// turns them into sunbridge's model.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"

namespace sb::solarlog {

struct PlantInfo {
  std::string id, name, label, timezone, firmware, device, package;
  double size_w = 0;
  std::vector<std::string> component_types;
  std::optional<TimePoint> installed, last_transfer;
};

struct PlantAddress {
  std::string street, house_number, postal_code, city, country;
};

struct FleetInfo {
  std::string id, name;
  std::vector<std::string> plants;
};

struct ComponentInfo {
  std::int64_t id = 0;  ///< the cross-epoch id that value calls take
  std::string name, type, subtype, manufacturer, model, serial;
  std::int64_t parent = 0;
  double rated_w = 0;
};

/// One channel's values over one period (of the plant, or of a component).
struct Series {
  std::string name, date, resolution, unit;
  std::optional<std::int64_t> component;
  std::vector<std::optional<double>> points;
};

struct Kpis {
  std::optional<double> specific_yield, performance_ratio, availability, autarky, self_consumption;
  double production_wh = 0, consumption_wh = 0;
};

struct PortalEvent {
  std::int64_t id = 0, component = 0;
  std::string component_name, component_type, severity, code, message;
  TimePoint start;
  std::optional<TimePoint> end;
};

}  // namespace sb::solarlog
