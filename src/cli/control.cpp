#include <CLI/CLI.hpp>
#include <charconv>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/runtime.hpp"
#include "engine/drivers.hpp"
#include "net/json.hpp"

#include <boost/json.hpp>

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
  if (cmd.duration) {
    // A command that holds is kept alive and handed back by the gateway that runs: this
    // process ends at once, so the command goes to the running gateway's API.
    const auto& g = cfg->gateway;
    if (g.api_token.empty())
      return report(
          "--duration: the running gateway holds a command with a duration; it takes "
          "commands with gateway.api_token, which " +
          cfg->path + " does not set");
    boost::json::object body{{"command", to_string(cmd.type)},
                             {"duration_s", cmd.duration->count()}};
    if (command_takes_argument(cmd.type))
      body["argument"] = cmd.argument;
    else if (cmd.type != CommandType::Release)
      body["value"] = cmd.value;
    net::HttpRequest req{
        "POST",
        "/api/v1/devices/" + cmd.device + "/commands",
        {{"Authorization", "Bearer " + g.api_token}, {"Content-Type", "application/json"}},
        net::to_json(body)};
    std::string where = g.listen_host + ":" + std::to_string(g.listen_port);
    auto res = rt.wait(rt.http().request({g.listen_host, g.listen_port, false}, req));
    if (!res)
      return report("--duration: no gateway answers at " + where + " (" + res.error().message +
                    "); a command with a duration is held by the running gateway "
                    "(sunbridge run), which hands it back when it ends");
    auto answer = net::parse_json_object(res->body, "the gateway's answer");
    if (!answer) return report(answer.error().message);
    if (res->status != 200) {
      auto e = answer->if_contains("error");
      return report(e && e->is_object() && e->as_object().contains("message")
                        ? std::string(e->as_object().at("message").as_string())
                        : res->body);
    }
    auto text = [&](const char* k) {
      auto v = answer->if_contains(k);
      return v && v->is_string() ? std::string(v->as_string()) : std::string();
    };
    std::cout << cmd.device << ": " << to_string(cmd.type) << " "
              << (command_takes_argument(cmd.type) ? cmd.argument : o.value) << " -> "
              << text("status") << " (" << text("detail") << "), via the gateway at " << where
              << "\n";
    return text("status") == "verified" ? 0 : 3;
  }
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
  cmd->add_option("--duration", o->duration,
                  "how long the command should hold (e.g. 30m); sent to the running gateway, "
                  "which hands it back when it ends");
  cmd->callback([o, &rc] { rc = control(*o); });
}

}  // namespace sb::cli
