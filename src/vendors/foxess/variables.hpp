// The 120 variables of the FoxESS Open API (foxess.md §7): name, unit and the six language
// names exactly as `/op/v0/device/variable/get` returns them, from the catalogue's JSON copy
// (data/variables.json, embedded in the binary).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sb::foxess {

struct Variable {
  std::string name;  ///< "pvPower"
  std::string unit;  ///< "kW", "℃", "" …
  bool grid_tied = false;
  bool energy_storage = false;
  std::map<std::string, std::string> names;  ///< language code -> display name
  std::map<std::string, std::string> enums;  ///< runningState: "163" -> "on-grid"
};

/// All 120, in the document's order.
const std::vector<Variable>& variables();
const Variable* find_variable(const std::string& name);

}  // namespace sb::foxess
