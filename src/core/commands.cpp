#include "core/commands.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "core/schedule.hpp"

namespace sb {

namespace {

// The shortest text that reads back as `v`: "4600", "-99999", "0.5".
std::string num(double v) {
  char b[32];
  auto [end, ec] = std::to_chars(b, b + sizeof b, v);
  return ec == std::errc() ? std::string(b, end) : std::to_string(v);
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::optional<std::string> check_time_control(std::string_view text, const CommandLimits&,
                                              const std::string&) {
  if (auto bad = check_weekly_plan(text)) return "time-control plan: " + *bad;
  return std::nullopt;
}

std::optional<std::string> check_tou(std::string_view text, const CommandLimits& l,
                                     const std::string& device) {
  auto s = parse_tou_schedule(text);
  if (!s) return "tou-schedule: " + s.error().message;
  if (int(s->size()) > l.count)
    return "tou-schedule: " + std::to_string(s->size()) + " segments; " + device +
           " takes at most " + std::to_string(l.count);
  for (const auto& seg : *s) {
    auto mode = std::string(to_string(seg.mode));
    if (std::find(l.choices.begin(), l.choices.end(), mode) == l.choices.end())
      return "tou-schedule: " + device + " cannot follow mode " + mode;
    if (seg.power_w && *seg.power_w > l.high)
      return "tou-schedule: power " + num(*seg.power_w) + " W is above " + device + "'s " +
             num(l.high) + " W";
  }
  return std::nullopt;
}

std::optional<std::string> check_windows(std::string_view text, const CommandLimits& l,
                                         const std::string& device) {
  auto w = parse_time_windows(text);
  if (!w) return "charge-windows: " + w.error().message;
  if (int(w->size()) > l.count)
    return "charge-windows: " + std::to_string(w->size()) + " windows; " + device + " has " +
           std::to_string(l.count);
  return std::nullopt;
}

std::optional<std::string> check_peak_shaving(std::string_view text, const CommandLimits& l,
                                              const std::string& device) {
  auto p = parse_peak_shaving(text);
  if (!p) return p.error().message;
  if (*p && (*p)->import_limit_w > l.high)
    return "peak shaving: limit " + num((*p)->import_limit_w) + " W is above " + device + "'s " +
           num(l.high) + " W";
  return std::nullopt;
}

std::optional<std::string> check_load_control(std::string_view text, const CommandLimits& l,
                                              const std::string& device) {
  auto s = parse_load_control(text);
  if (!s) return s.error().message;
  if (std::find(l.choices.begin(), l.choices.end(), s->contact) == l.choices.end())
    return "load-control: " + device + " has no dry contact '" + s->contact + "' (it has " +
           joined(l.choices) + ")";
  return std::nullopt;
}

using K = ArgumentKind;
using W = Widget;
using T = CommandType;

}  // namespace

std::string_view to_string(ArgumentKind k) {
  switch (k) {
    case K::None:
      return "none";
    case K::Number:
      return "number";
    case K::OnOff:
      return "on-off";
    case K::Choice:
      return "choice";
    case K::Text:
      return "text";
  }
  return "none";
}

std::string_view to_string(Widget w) {
  switch (w) {
    case W::Number:
      return "number";
    case W::Setpoint:
      return "setpoint";
    case W::Level:
      return "level";
    case W::Toggle:
      return "toggle";
    case W::Select:
      return "select";
    case W::Text:
      return "text";
    case W::Button:
      return "button";
  }
  return "number";
}

const std::vector<CommandSpec>& command_catalogue() {
  // type, name, title, kind, unit, step, holds, widget, HA component, absent, hint, text check
  static const std::vector<CommandSpec> table = {
      {T::MinSoc, "min-soc", "Minimum SoC", K::Number, "%", 1, true, W::Number, "number",
       "has no minimum SoC setting", "", nullptr},
      {T::MinSocOffGrid, "min-soc-off-grid", "Minimum SoC off grid", K::Number, "%", 1, true,
       W::Number, "number", "has no off-grid minimum SoC", "", nullptr},
      {T::BatteryPower, "battery-power", "Battery setpoint (+ discharge)", K::Number, "W", 100,
       true, W::Setpoint, "number", "has no battery power setpoint", "", nullptr},
      {T::MinHomeConsumption, "min-home-consumption", "Minimum home consumption", K::Number, "W",
       50, true, W::Number, "number", "has no minimum home consumption", "", nullptr},
      {T::ExportLimit, "export-limit", "Export limit", K::Number, "W", 100, true, W::Number,
       "number", "has no export limit", "", nullptr},
      {T::BatteryStrategy, "battery-strategy", "Battery strategy", K::Choice, "", 0, false,
       W::Select, "select", "has no battery strategy setting", "", nullptr},
      {T::SmartControl, "smart-control", "Smart battery control", K::OnOff, "", 0, false, W::Toggle,
       "switch", "has no smart battery control", "", nullptr},
      {T::ChargeFromGrid, "charge-from-grid", "Charge from grid", K::OnOff, "", 0, false, W::Toggle,
       "switch", "has no charge-from-grid setting", "", nullptr},
      {T::StormGuard, "storm-guard", "Storm guard", K::OnOff, "", 0, false, W::Toggle, "switch",
       "has no storm-guard setting", "", nullptr},
      {T::EvCharging, "ev-charging", "EV charging level (0 stops)", K::Number, "%", 5, false,
       W::Level, "number", "is not an EV charger sunbridge can start", "", nullptr},
      {T::Release, "release", "Hand control back", K::None, "", 0, false, W::Button, "button",
       "cannot hand control back to its own mode", "", nullptr},
      {T::TouSchedule, "tou-schedule", "Time-of-use schedule", K::Text, "", 0, false, W::Text,
       "text", "has no time-of-use schedule", "00:00-05:00 charge power=3000; 21:00-24:00 backup",
       check_tou},
      {T::ChargeWindows, "charge-windows", "Grid-charge windows", K::Text, "", 0, false, W::Text,
       "text", "has no grid-charge windows", "02:00-05:00,13:00-15:00", check_windows},
      {T::PeakShaving, "peak-shaving", "Peak shaving", K::Text, "", 0, false, W::Text, "text",
       "has no peak shaving", "limit=4000 soc=30", check_peak_shaving},
      {T::LoadControl, "load-control", "Load control", K::Text, "", 0, false, W::Text, "text",
       "has no load control", "NC1 mode=Scheduled start=09:00 end=16:00", check_load_control},
      {T::TimeControl, "time-control", "Weekly battery plan", K::Text, "", 0, false, W::Text, "",
       "has no battery time control",
       "7 days from Monday, comma-separated, of 96 quarter hours: 0 free, 1 no charging, 2 no "
       "discharging; or off",
       check_time_control},
  };
  return table;
}

const CommandSpec& command_spec(CommandType t) {
  for (const auto& s : command_catalogue())
    if (s.type == t) return s;
  return command_catalogue().front();  // every CommandType has a row (commands_test)
}

std::string_view to_string(CommandType t) {
  return command_spec(t).name;
}

std::optional<CommandType> parse_command_type(std::string_view s) {
  for (const auto& spec : command_catalogue()) {
    if (s == spec.name) return spec.type;
    // "min_soc" too: YAML keys and MQTT topics written with underscores.
    if (s.size() == spec.name.size() &&
        std::equal(s.begin(), s.end(), spec.name.begin(),
                   [](char a, char b) { return a == (b == '-' ? '_' : b); }))
      return spec.type;
  }
  return std::nullopt;
}

std::string command_type_names() {
  // In the order the commands were added (CommandType), as messages have always listed them.
  std::string out;
  for (int t = 0; t <= static_cast<int>(CommandType::EvCharging); ++t)
    out += (out.empty() ? "" : ", ") + std::string(to_string(static_cast<CommandType>(t)));
  return out;
}

bool command_takes_argument(CommandType t) {
  auto k = command_spec(t).kind;
  return k == K::Choice || k == K::Text;
}

Result<void> check_command(const Command& cmd, const Capabilities& caps) {
  const auto& spec = command_spec(cmd.type);
  const std::string name(spec.name);
  const auto* l = caps.command(cmd.type);
  if (!l) return fail(ErrorKind::NotSupported, cmd.device + " " + std::string(spec.absent));
  auto bad = [](std::string m) { return fail(ErrorKind::InvalidArgument, std::move(m)); };
  switch (spec.kind) {
    case K::None:
      break;
    case K::Number: {
      const std::string unit(spec.unit);
      if (std::isfinite(cmd.value) && cmd.value >= l->low && cmd.value <= l->high) break;
      if (cmd.type == T::BatteryPower)
        return bad(name + " " + num(cmd.value) + " W is outside " + cmd.device + "'s range " +
                   num(l->low) + " W (charge) .. " + num(l->high) + " W (discharge)");
      return bad(name + " " + num(cmd.value) + " " + unit + " is outside " + cmd.device +
                 "'s range " + num(l->low) + ".." + num(l->high) + " " + unit);
    }
    case K::OnOff:
      if (cmd.value != 0 && cmd.value != 1) return bad(name + " takes 1 (on) or 0 (off)");
      break;
    case K::Choice:
      if (std::find(l->choices.begin(), l->choices.end(), cmd.argument) == l->choices.end())
        return bad(name + " '" + cmd.argument + "' is not one of " + joined(l->choices));
      break;
    case K::Text:
      if (spec.check_text)
        if (auto why = spec.check_text(cmd.argument, *l, cmd.device)) return bad(*why);
      break;
  }
  if (!cmd.duration) return {};
  if (!spec.holds) {
    std::string holding;
    for (const auto& s : command_catalogue())
      if (s.holds) holding += (holding.empty() ? "" : ", ") + std::string(s.name);
    return bad(name + " takes no duration (only " + holding + " hold for a while)");
  }
  if (!can_hold(spec, caps))
    return fail(ErrorKind::NotSupported,
                cmd.device +
                    " cannot hand control back to its own mode, so its battery-power setpoint "
                    "cannot have a duration (send battery-power 0 to stop)");
  return {};
}

bool can_hold(const CommandSpec& spec, const Capabilities& caps) {
  // A setpoint ends by handing control back; what a setting changed is simply written back.
  return spec.holds && (spec.type != T::BatteryPower || caps.takes(T::Release));
}

std::string form_hint(const CommandSpec& spec, const CommandLimits& l) {
  // A load control names one of the device's own dry contacts.
  if (spec.type == T::LoadControl && !l.choices.empty())
    return l.choices.front() + " mode=Scheduled start=09:00 end=16:00";
  return std::string(spec.hint);
}

double form_start_value(const CommandSpec& spec, const CommandLimits& l) {
  if (spec.widget == W::Setpoint) return 0;
  if (l.low <= 0 && l.high > 0) return l.high;
  return l.low;
}

}  // namespace sb
