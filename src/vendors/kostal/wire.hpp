// The KOSTAL PLENTICORE plus / PIKO IQ local API's answers as the client decodes them
// (shared/specs/kostal.md): one struct per body the driver uses, names as the device has them.
// The mapping (mapping.hpp) turns them into sunbridge's model.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sb::kostal {

struct VersionInfo {
  std::string name, hostname, api_version, sw_version;
};
struct MeInfo {
  std::string role;
  std::vector<std::string> permissions;
  bool authenticated = false, anonymous = true, locked = false, active = false;
};
struct ModuleInfo {
  std::string id, type;
};
struct ProcessValue {
  std::string id, unit;
  double value = 0;
  bool operator==(const ProcessValue&) const = default;
};
struct ModuleValues {
  std::string module;
  std::vector<ProcessValue> values;
  bool operator==(const ModuleValues&) const = default;
  /// The value of `id`, or nullopt.
  std::optional<double> get(std::string_view id) const;
};
struct SettingValue {
  std::string id, value;
};
struct SettingMeta {
  std::string id, type, access;
  std::optional<std::string> unit, min, max, default_value;
};
struct ModuleSettings {
  std::string module;
  std::vector<SettingMeta> settings;
};
struct EventInfo {
  int code = 0;
  bool is_active = false;
  std::string start_time, end_time, category, group, description, long_description;
};
struct FirmwareStatus {
  std::string status, target;
  int current_percent = 0;
};

}  // namespace sb::kostal
