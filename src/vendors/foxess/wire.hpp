// The FoxESS Open API's answers and requests as the client encodes and decodes them
// (shared/specs/foxess.md §5): one struct per body the driver uses, names as the cloud has
// them. The mapping (mapping.hpp) turns them into sunbridge's model.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "vendors/foxess/scheduler.hpp"

namespace sb::foxess {

struct Plant {
  std::string station_id, name, timezone;
};
struct PlantDetail {
  std::string name, country, city, address, postcode, timezone;
  double capacity_kw = 0;
  std::vector<std::pair<std::string, std::string>> modules;  ///< (moduleSN, deviceSN)
};
struct Device {
  std::string sn, module_sn, station_id, station_name, device_type, product_type;
  int status = 0;  ///< 1 online, 2 fault, 3 offline
  bool has_pv = false, has_battery = false;
};
struct DeviceDetail {
  std::string sn, device_type, product_type, master_version, manager_version;
  int status = 0;
  double capacity_kw = 0;
  bool scheduler = false;
  struct Battery {
    std::string sn, model;
    double capacity_wh = 0;  ///< from `capicty` (sic)
  };
  std::vector<Battery> batteries;
};
struct Datum {
  std::string variable, unit;
  double value = 0;
};
struct RealTime {
  std::string sn;
  std::string time;  ///< as sent ("2026-04-07 10:44:04 CEST+0200")
  std::vector<Datum> data;
};
struct Point {
  TimePoint time;
  double value = 0;
};
struct Series {
  std::string variable, unit;
  std::vector<Point> points;
};
struct Setting {
  std::string value, unit;
  double precision = 1;
  std::optional<double> min, max;
  std::vector<std::string> choices;  ///< enumList
};
struct Generation {
  double today_kwh = 0, month_kwh = 0, cumulative_kwh = 0;
};
struct AccessCount {
  int total = 0, remaining = 0;
};
struct ReportSeries {
  std::string variable, unit;
  std::vector<double> values;
};

struct PlantSpec {  ///< plant/create and plant/update (foxess.md §5.1.1)
  std::string name, country_code, city, address, postcode, timezone;
  int type = 2;  ///< 1 PV, 2 energy storage, 3 charge pile, 4 mini device
  std::vector<std::pair<std::string, std::string>> modules;  ///< (module SN, key)
};
struct PlantCreated {
  std::string station_id;
  std::vector<std::pair<std::string, int>> modules;  ///< (module SN, errno; 0 usable)
};
struct Module {
  std::string sn, station_id;
  int status = 0;  ///< 1 online, 2 offline
  int signal = 0;  ///< 0..100
};
struct Meter {
  std::string sn, station_id, station_name;
  int status = 0;
};
struct SchedulerFlag {
  bool supported = false, enabled = false;
};
struct Schedule {
  bool enabled = false;
  std::vector<SchedulerGroup> groups;  ///< as returned: unused slots have workMode "Invalid"
  SchedulerLimits limits;              ///< from v1 `properties` (defaults otherwise)
};
struct ChargeWindow {
  bool enable = false;
  int start_hour = 0, start_minute = 0, end_hour = 0, end_minute = 0;
  bool operator==(const ChargeWindow&) const = default;
};
using ForceCharge = std::array<ChargeWindow, 2>;
struct DeviceTime {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
};
struct PeakShavingSetting {
  Setting import_limit;  ///< value in import_limit.unit (kW or W)
  Setting soc;
};

}  // namespace sb::foxess
