// The FoxESS scheduler ("timing mode") groups as the Open API carries them (foxess.md §5.3,
// §5.5; protocols.md §2.5), and the rules the cloud applies when a schedule is written. The
// simulator enforces them; the client reads groups leniently (maxSoc comes as a string).
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace sb::foxess {

/// One time segment, field for field.
struct SchedulerGroup {
  int enable = 0;
  int start_hour = 0, start_minute = 0, end_hour = 0, end_minute = 0;
  std::string work_mode = "Invalid";  ///< SelfUse, Feedin, Backup, ForceCharge, ForceDischarge
  int min_soc_on_grid = 10;
  int fd_soc = 10;
  double fd_pwr = 0;           ///< W
  std::optional<int> max_soc;  ///< v1 only
  bool operator==(const SchedulerGroup&) const = default;
};

constexpr int kSchedulerGroups = 8;
const std::vector<std::string>& scheduler_work_modes();

/// The ranges v1 `scheduler/get` publishes under `properties` (and enforces on write).
struct SchedulerLimits {
  int min_soc_on_grid_min = 10;
  int fd_soc_min = 11;  ///< protocols.md §2.5: fdSoc < 11 is refused
  double fd_pwr_max = 6000;
};

/// Why the cloud refused a schedule: errno 40257 (a field) or 42023 (segments overlap).
struct SchedulerRefusal {
  int err = 40257;
  std::string msg;
};

/// Checks the `groups` of a scheduler/enable body: at most 8, every field present and of its
/// type, no unknown field (v0 knows no maxSoc), hours/minutes in range, a known work mode,
/// minSocOnGrid 10..100, fdSoc >= minSocOnGrid and within its range, fdPwr within range and
/// (v1) above 0, no segment across midnight, enabled segments not overlapping.
std::variant<std::vector<SchedulerGroup>, SchedulerRefusal> check_scheduler_groups(
    const boost::json::value& groups, bool v1, const SchedulerLimits& limits);

/// A group as scheduler/get returns it (v1: maxSoc as a string).
boost::json::object to_json(const SchedulerGroup& g, bool v1);
/// A group as scheduler/enable takes it (v1: maxSoc as an integer when set).
boost::json::object to_request_json(const SchedulerGroup& g, bool v1);
/// A group from scheduler/get, accepting numbers or numeric strings; nullopt when a field is
/// missing or not a number.
std::optional<SchedulerGroup> group_from_json(const boost::json::object& o);

/// Minutes from midnight a group starts at, and ends at (exclusive; 23:59 means midnight).
int group_start(const SchedulerGroup& g);
int group_end(const SchedulerGroup& g);

}  // namespace sb::foxess
