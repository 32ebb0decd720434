#include <CLI/CLI.hpp>
#include <charconv>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/runtime.hpp"
#include "engine/drivers.hpp"

namespace sb::cli {

namespace {

struct ControlOptions {
  std::string config;
  std::string device;
  std::string command;
  std::string value;
  std::string duration;
};

int control(const ControlOptions& o) {
  auto type = parse_command_type(o.command);
  if (!type)
    return report("unknown command '" + o.command + "' (valid: " + command_type_names() + ")");
  Command cmd;
  cmd.device = o.device;
  cmd.type = *type;
  cmd.requested_by = "cli";
  if (command_takes_argument(*type)) {
    if (o.value.empty())
      return report(o.command + " needs a value (e.g. battery-strategy auto, time-control off)");
    cmd.argument = o.value;
  } else if (*type != CommandType::Release) {
    if (o.value.empty())
      return report(o.command + " needs a value (e.g. battery-power -2000, min-soc 20)");
    auto [p, ec] = std::from_chars(o.value.data(), o.value.data() + o.value.size(), cmd.value);
    if (ec != std::errc() || p != o.value.data() + o.value.size())
      return report("value '" + o.value + "' is not a number");
  }
  if (!o.duration.empty()) {
    auto d = parse_duration(o.duration);
    if (!d) return report("--duration: " + d.error().message);
    cmd.duration = std::chrono::duration_cast<std::chrono::seconds>(*d);
  }
  auto cfg = engine::load_config(o.config, engine::builtin_drivers());
  if (!cfg) return report(cfg.error().message);
  RealClock clock;
  Runtime rt(clock, 1);
  // Commands are audited in the configured database, next to the gateway's own.
  if (auto r = rt.start(std::move(*cfg), false, false); !r) return report(r.error().message);
  if (auto r = rt.wait(rt.gateway().discover_all()); !r) return report(r.error().message);
  auto rec = rt.wait(rt.gateway().execute(cmd));
  if (!rec) return report(rec.error().message);
  std::cout << rec->device << ": " << to_string(rec->type) << " ";
  if (command_takes_argument(rec->type))
    std::cout << rec->argument;
  else
    std::cout << rec->value;
  std::cout << " -> " << rec->status << " (" << rec->detail << "), audit id " << rec->id << "\n";
  return rec->status == "verified" ? 0 : 3;
}

}  // namespace

void register_control(CLI::App& app, int& rc) {
  auto* cmd = app.add_subcommand("control",
                                 "Send a command to a device, verify it by reading back, audit it");
  auto o = std::make_shared<ControlOptions>();
  cmd->add_option("device", o->device, "device id, e.g. sonnen:battery")->required();
  cmd->add_option("command", o->command,
                  "battery-power (W, + discharge, - charge), min-soc (%), release, "
                  "min-home-consumption (W), battery-strategy (name), smart-control (1|0), "
                  "time-control (7 comma-separated 96-character days, or off), export-limit (W), "
                  "min-soc-off-grid (%), tou-schedule ('00:00-05:00 charge power=3000 "
                  "max-soc=90; 17:00-21:00 discharge power=2500 min-soc=20', or off), "
                  "charge-windows ('02:00-05:00,13:00-15:00', or off), peak-shaving "
                  "('limit=4000 soc=30', or off)")
      ->required();
  cmd->add_option("value", o->value, "the command's value");
  cmd->add_option("-c,--config", o->config, "configuration file (YAML)")->required();
  cmd->add_option("--duration", o->duration, "how long the command should hold (e.g. 30m)");
  cmd->callback([o, &rc] { rc = control(*o); });
}

}  // namespace sb::cli
