#include "vendors/enphase/plans.hpp"

#include <algorithm>
#include <cctype>
#include <string>

namespace sb::enphase {

PlanLimits plan_limits(Plan p) {
  switch (p) {
    case Plan::Watt:
      return {"Watt", 10, 1'000};
    case Plan::Kilowatt:
      return {"Kilowatt", 50, 50'000};
    case Plan::Megawatt:
      return {"Megawatt", 100, 300'000};
    case Plan::Partner:
      return {"Partner", 300, 1'500'000};
  }
  return {"Watt", 10, 1'000};
}

std::optional<Plan> parse_plan(std::string_view name) {
  std::string n(name);
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
  if (n == "watt") return Plan::Watt;
  if (n == "kilowatt") return Plan::Kilowatt;
  if (n == "megawatt") return Plan::Megawatt;
  if (n == "partner") return Plan::Partner;
  return std::nullopt;
}

}  // namespace sb::enphase
