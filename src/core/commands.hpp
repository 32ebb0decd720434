// The command catalogue: every command sunbridge can give a device, one row each (name, what
// its argument is, its unit, whether it may hold for a while, how Home Assistant and the
// dashboard show it, and how a text argument is checked). A device's capabilities say which of
// these commands it takes, with its own limits (CommandLimits, filled by its driver).
// Validation (check_command), the REST API's capability answer, MQTT discovery and the
// dashboard's control forms are all made from this table, so a new command is one row here
// plus its driver's apply().
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.hpp"
#include "core/result.hpp"

namespace sb {

/// What a command carries.
enum class ArgumentKind {
  None,    ///< nothing (release)
  Number,  ///< `value`, a number in the device's range, in `unit`
  OnOff,   ///< `value`, 1 on or 0 off
  Choice,  ///< `argument`, one of the device's choices
  Text,    ///< `argument`, a text with its own grammar (a schedule, a plan), or "off"
};
std::string_view to_string(ArgumentKind k);

/// How the dashboard lays a command out (Home Assistant has its own component per row).
enum class Widget {
  Number,    ///< a number and Set
  Setpoint,  ///< a signed power: Charge, Discharge, Set (+ discharge, − charge)
  Level,     ///< a level with Start and Stop (0)
  Toggle,    ///< on and off buttons with the state now
  Select,    ///< a list of the choices
  Text,      ///< a line of text with a placeholder
  Button,    ///< one button
};
std::string_view to_string(Widget w);

struct CommandSpec {
  CommandType type;
  std::string_view name;   ///< "min-soc": the API's, the CLI's and the MQTT topic's name
  std::string_view title;  ///< "Minimum SoC": the Home Assistant entity's and the form's label
  ArgumentKind kind;
  std::string_view unit;  ///< Number: "W" or "%"
  double step;            ///< Number: the step a form offers
  /// May carry a duration (a lease): what it changed comes back when the lease ends.
  /// battery-power only where the device can hand control back (release).
  bool holds;
  Widget widget;
  /// Home Assistant component: "number", "switch", "select", "text", "button"; "" for none
  /// (a weekly plan of 672 characters does not fit HA's text entity).
  std::string_view ha_component;
  std::string_view absent;  ///< "has no minimum SoC setting": why a device refuses it
  std::string_view hint;    ///< Text: an example the form shows
  /// Text: what is wrong with `argument` for a device with `limits` (nullopt: nothing).
  std::optional<std::string> (*check_text)(std::string_view argument, const CommandLimits& limits,
                                           const std::string& device) = nullptr;
};

/// Every command, in the order forms and Home Assistant entities are listed.
const std::vector<CommandSpec>& command_catalogue();
const CommandSpec& command_spec(CommandType t);

/// Whether `cmd` suits a device with `caps`: the command is one it takes, its value is in the
/// device's range or its argument parses within the device's limits, and a duration is only
/// given to a command that can hold. NotSupported or InvalidArgument naming the device, the
/// command and the range otherwise.
Result<void> check_command(const Command& cmd, const Capabilities& caps);

/// Whether the command may carry a duration on a device with `caps`: the row says it can hold,
/// and a battery-power setpoint only where the device can hand control back (release).
bool can_hold(const CommandSpec& spec, const Capabilities& caps);

/// The example a text command's form shows: the row's, with the device's own first dry
/// contact for a load control.
std::string form_hint(const CommandSpec& spec, const CommandLimits& limits);

/// The value a form starts from when the device's own is not known: 0 for a signed setpoint,
/// the top of a range that starts at 0 (an export limit, a charging level), else the bottom.
double form_start_value(const CommandSpec& spec, const CommandLimits& limits);

}  // namespace sb
