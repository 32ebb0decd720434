// The canonical model: what every vendor is turned into.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/name.hpp"
#include "core/result.hpp"

namespace sb {

/// One PV array of a site: its peak power and how it faces (core/solar.hpp expects its yield).
struct PvArray {
  double peak_w = 0;
  double azimuth_deg = 180;  ///< 0 north, 90 east, 180 south
  double tilt_deg = 30;      ///< 0 flat

  bool operator==(const PvArray&) const = default;
};

struct Site {
  std::string id;
  std::string name;
  double latitude = 0;           ///< degrees, + north
  double longitude = 0;          ///< degrees, + east
  std::string timezone = "UTC";  ///< IANA name; daily values are computed in this zone
  std::vector<PvArray> pv;       ///< empty: no clear-sky expectation for the site
  double pv_low_share = 0.2;     ///< a day below this share of its clear-sky yield is an event

  bool operator==(const Site&) const = default;
};

struct DeviceInfo {
  std::string id;          ///< stable across restarts: "<connection>:<serial>"
  std::string site;        ///< Site::id
  std::string connection;  ///< the configured connection that reaches it
  std::string vendor;      ///< registry name ("sonnen")
  std::string kind;        ///< "battery", "inverter", "meter", "ev_charger"
  std::string manufacturer;
  std::string model;
  std::string serial;
  std::string firmware;
};

/// How a stored value came to be.
enum class Quality : std::uint8_t { Measured = 0, Backfilled = 1, Estimated = 2, Stale = 3 };
/// A vendor value outside what the metric can physically be (or the device's rating allows):
/// never stored as measured (see engine/quality.hpp plausibility).
std::string_view to_string(Quality q);

/// One value of one series. The device and metric are interned (core/name.hpp): a sample is
/// copied and queued without a string of its own.
struct Sample {
  Name device;
  Name metric;
  TimePoint time;
  double value = 0;
  Quality quality = Quality::Measured;
};

enum class Severity : std::uint8_t { Info = 0, Warning = 1, Error = 2 };
std::string_view to_string(Severity s);

/// The codes of the events sunbridge raises itself (vendors' own events keep theirs): what
/// Home Assistant's event entities offer to automate on.
std::span<const std::string_view> event_codes();
/// `code` when it is one of event_codes(), else "vendor" (a vendor's own event).
std::string_view event_type(std::string_view code);

struct Event {
  std::string device;  ///< a device id, "site:<id>" for a site, "sunbridge" for the gateway
  TimePoint time;
  Severity severity = Severity::Info;
  std::string code;     ///< stable machine-readable code ("sonnen.offline", "poll.failed")
  std::string message;  ///< for people
};

/// What one poll of one device returned.
struct Snapshot {
  TimePoint time;
  std::vector<Sample> samples;
  std::vector<Event> events;
};

struct TimeRange {
  TimePoint from;
  TimePoint to;  ///< exclusive
};

/// Commands a person or program can give a device.
enum class CommandType {
  BatteryPower,        ///< value: W, + discharge, - charge (the battery sign rule)
  MinSoc,              ///< value: % the battery must not discharge below
  Release,             ///< hand control back to the device's own mode
  MinHomeConsumption,  ///< value: W the house must draw before the battery discharges
  BatteryStrategy,     ///< argument: one of Capabilities::battery_strategies
  SmartControl,        ///< value: 1 on, 0 off (vendor forecast-based charging)
  TimeControl,         ///< argument: a WeeklyPlan text (see parse_weekly_plan), or "off"
  ExportLimit,         ///< value: W the site may export at most
  MinSocOffGrid,       ///< value: % the battery must not discharge below when off grid
  TouSchedule,         ///< argument: a time-of-use schedule (core/schedule.hpp), or "off"
  ChargeWindows,       ///< argument: grid-charge windows (core/schedule.hpp), or "off"
  PeakShaving,         ///< argument: "limit=W soc=%" (core/schedule.hpp), or "off"
  ChargeFromGrid,      ///< value: 1 the battery may charge from the grid, 0 not
  StormGuard,          ///< value: 1 full backup during severe-weather alerts, 0 not
  LoadControl,         ///< argument: a dry contact's setting (parse_load_control)
  EvCharging,          ///< value: % of the EV charger's current, 0 stops charging
};
/// The command's name (core/commands.hpp has the rest of its row).
std::string_view to_string(CommandType t);
/// "battery-power" / "battery_power", "min-soc", "release"; nullopt otherwise.
std::optional<CommandType> parse_command_type(std::string_view s);
/// Every command name, for error messages ("battery-power, min-soc, ...").
std::string command_type_names();
/// Commands that take a text `argument` (a choice or a text) rather than a numeric `value`.
bool command_takes_argument(CommandType t);

/// A dry contact's load-control setting as text: "<name> mode=<mode> [soc_low=<10..90>]
/// [start=HH:MM end=HH:MM]", modes Scheduled, Basic, Advanced_BatteryPowered,
/// Manual_always_not_powered, Manual_always_powered, Advanced_GeneratorPowered.
struct LoadControlSetting {
  std::string contact;
  std::string mode;
  std::optional<int> soc_low;
  std::optional<int> start_s, end_s;  ///< seconds from midnight
};
Result<LoadControlSetting> parse_load_control(std::string_view text);

/// A weekly battery plan as text: seven 96-character day strings from Monday joined by
/// commas, one character per quarter hour from local midnight: '0' free, '1' no charging,
/// '2' no discharging; or "off". Returns what is wrong with `text` (naming the day and the
/// quarter hour), nullopt when it is a valid plan.
std::optional<std::string> check_weekly_plan(std::string_view text);

struct Command {
  std::string device;
  CommandType type = CommandType::BatteryPower;
  double value = 0;
  std::optional<std::chrono::seconds> duration;  ///< how long it should hold, when leased
  std::string requested_by;                      ///< "api", "cli", "mqtt:<client>"
  std::string argument;                          ///< text commands (strategy, weekly plan)
};

/// What a command sets, as the device has it now: what its control form shows before anyone
/// changes it (a minimum SoC of 35 %, the strategy the battery follows, a toggle's state).
struct Setting {
  CommandType command = CommandType::MinSoc;
  std::optional<double> value;  ///< number and on / off commands (1 on, 0 off)
  std::string argument;         ///< text commands: a strategy's name, a plan, "off"
};

/// A device's settings as last read, and when.
struct DeviceSettings {
  std::string device;
  std::vector<Setting> settings;
  TimePoint read_at;
};

/// What a driver reports after applying a command and reading it back.
struct CommandOutcome {
  bool verified = false;         ///< the read-back value matches what was asked
  std::optional<double> before;  ///< the commanded quantity before the change
  std::optional<double> after;   ///< the read-back value
  std::string detail;            ///< for people
  /// For a command that took control from the device's own mode: what a Release needs to give it
  /// back (driver-specific text, passed as the Release's argument; "" when Release needs none).
  std::string hand_back;
};

/// The audit row of a command (store table `commands`).
struct CommandRecord {
  std::int64_t id = 0;
  TimePoint requested_at;
  std::optional<TimePoint> finished_at;
  std::string requested_by;
  std::string device;
  CommandType type = CommandType::BatteryPower;
  double value = 0;
  std::optional<std::int64_t> duration_s;
  std::string status;  ///< "pending", "verified", "unverified", "rejected", "failed", "interrupted"
  std::optional<double> before;
  std::optional<double> after;
  std::string detail;
  std::string argument;  ///< text commands (strategy, weekly plan)
};

/// A stretch of time a device's values are missing for (store table `gaps`): found by the
/// engine after an outage, filled from the vendor's history where it has any, kept as a record
/// of what could not be filled.
struct Gap {
  std::int64_t id = 0;
  std::string device;
  std::string metric;  ///< "": every metric of the device (the hole as found)
  TimePoint from;      ///< the last value before the hole
  TimePoint to;        ///< the first value after it
  std::string reason;  ///< why values are missing ("no answer: ...", "sunbridge was not running")
  std::string status = "open";  ///< open, filled, partial, estimated, unfillable
  std::string detail;           ///< what backfill did, or why it could not
  std::int64_t filled = 0;      ///< samples the vendor's history gave
  int attempts = 0;             ///< history calls that failed
  TimePoint done_until;         ///< backfilled up to here
  std::optional<TimePoint> next_attempt;
  TimePoint detected_at;
  TimePoint updated_at;
  std::int64_t parent = 0;  ///< for a metric's gap: the device gap it was found in
};
/// Every gap status, in the order a gap moves through them.
inline constexpr std::string_view kGapStatuses[] = {"open", "filled", "partial", "estimated",
                                                    "unfillable"};
/// "open,unfillable" -> the statuses; an InvalidArgument naming `what` ("--status") and the
/// one that is not a gap status otherwise.
Result<std::vector<std::string>> parse_gap_statuses(std::string_view list, std::string_view what);

/// A comma-separated list whose items must each be one of `allowed`: the items in order, or
/// (unexpected) the first item that is not allowed, for the caller to word the error.
std::expected<std::vector<std::string>, std::string> split_choices(
    std::string_view list, std::span<const std::string_view> allowed);
/// `words` joined by ", ": what an error lists as the valid ones.
std::string joined(std::span<const std::string_view> words);

/// A command that holds for a while (store table `leases`): kept alive while it runs, handed
/// back to the device's own mode when it ends, when sunbridge stops, or at the next start.
struct Lease {
  std::int64_t id = 0;
  std::int64_t command = 0;  ///< the audit row of the command that took it
  std::string device;
  CommandType type = CommandType::BatteryPower;
  double value = 0;
  std::string argument;
  std::string requested_by;
  TimePoint started_at;
  TimePoint until;
  std::string state = "active";  ///< active, released, failed
  std::optional<TimePoint> ended_at;
  std::string detail;   ///< how it ended
  std::string restore;  ///< what hands control back: CommandOutcome::hand_back, or the old value
};

/// What one device accepts for one command; what the command is, its unit and its grammar are in
/// the command catalogue (core/commands.hpp).
struct CommandLimits {
  CommandType type = CommandType::MinSoc;
  /// Number: the range, in the command's unit (battery-power: low is the largest charge,
  /// negative). tou-schedule: high is a segment's largest power, W; peak-shaving: the largest
  /// import limit, W.
  double low = 0, high = 0;
  /// Choice: the values (battery-strategy); tou-schedule: the modes the device can follow;
  /// load-control: its dry contacts.
  std::vector<std::string> choices;
  int count = 0;  ///< tou-schedule: segments at most; charge-windows: the windows it has
};

/// What a device can do, with units in the names.
struct Capabilities {
  bool live = true;
  bool history = false;
  /// The PV array's (or PV inverter's) rated power, W; 0: not known. Bounds what a PV power
  /// reading may be (engine/quality.hpp).
  double pv_rated_w = 0;
  Millis history_step{0};   ///< resolution of history(); 0: not known (15 minutes assumed)
  Millis data_interval{0};  ///< how often the vendor's values change; 0: at every poll
  /// A setpoint the device forgets unless it is written again this often; 0: it holds.
  Millis setpoint_keepalive{0};
  /// The commands the device takes, each with its limits (core/commands.hpp).
  std::vector<CommandLimits> commands;
  /// The metrics the device reports (what its vendor's package allows); empty: not declared.
  std::vector<std::string> metrics;

  /// The device's limits for `t`; nullptr when it does not take that command.
  const CommandLimits* command(CommandType t) const {
    for (const auto& c : commands)
      if (c.type == t) return &c;
    return nullptr;
  }
  bool takes(CommandType t) const { return command(t) != nullptr; }
};

}  // namespace sb
