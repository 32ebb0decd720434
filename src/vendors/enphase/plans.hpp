// The Enphase developer plans and their call limits (protocols.md §4): the driver paces itself
// by them, and the simulator refuses calls past them with the seed's 429 bodies.
#pragma once

#include <optional>
#include <string_view>

namespace sb::enphase {

enum class Plan { Watt, Kilowatt, Megawatt, Partner };
struct PlanLimits {
  const char* name;
  int per_minute;
  int per_month;
};
/// protocols.md §4: Watt 10/min 1,000/month, Kilowatt 50 / 50,000, Megawatt 100 / 300,000,
/// Partner 300 / 1,500,000.
PlanLimits plan_limits(Plan plan);
/// "watt", "Kilowatt", ... (any case); nullopt otherwise.
std::optional<Plan> parse_plan(std::string_view name);

}  // namespace sb::enphase
