#include <CLI/CLI.hpp>
#include <charconv>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/runtime.hpp"
#include "engine/drivers.hpp"
#include "net/json.hpp"
#include "store/owner_lock.hpp"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>

namespace sb::cli {

namespace {

struct ControlOptions {
  std::string config;
  std::string device;
  std::string command;
  std::string value;
  std::string duration;
};

// Sends the command to the gateway that owns the database, through its API: one executor
// decides every command for a device (its leases, one command at a time).
int via_gateway(const Command& cmd, const std::string& shown_value, const engine::Config& cfg,
                const store::LockHolder& gw, Runtime& rt) {
  std::string who = gw.describe();
  if (cfg.gateway.api_token.empty())
    return report("the database " + cfg.gateway.database + " is served by " + who +
                  ", which takes commands through its API with gateway.api_token; " + cfg.path +
                  " does not set one");
  auto url = boost::urls::parse_uri(gw.api);
  if (!url || url->port_number() == 0)
    return report("the lock file of " + cfg.gateway.database + " names no usable API address ('" +
                  gw.api + "') for " + who);
  std::string host(url->host_address());
  if (host.starts_with('[')) host = host.substr(1, host.size() - 2);
  boost::json::object body{{"command", to_string(cmd.type)}};
  if (cmd.duration) body["duration_s"] = cmd.duration->count();
  if (command_takes_argument(cmd.type))
    body["argument"] = cmd.argument;
  else if (cmd.type != CommandType::Release)
    body["value"] = cmd.value;
  net::HttpRequest req{
      "POST",
      "/api/v1/devices/" + cmd.device + "/commands",
      {{"Authorization", "Bearer " + cfg.gateway.api_token}, {"Content-Type", "application/json"}},
      net::to_json(body)};
  // A command waits for the device's read-back: give it the time the driver may take.
  req.timeout = std::chrono::seconds(120);
  auto res = rt.wait(rt.http().request({host, url->port_number(), false}, req));
  if (!res)
    return report("no answer from " + who + " (" + res.error().message +
                  "); the command was not sent");
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
  std::cout << cmd.device << ": " << to_string(cmd.type) << " " << shown_value << " -> "
            << text("status") << " (" << text("detail") << "), via the gateway at " << host << ":"
            << url->port_number() << "\n";
  return text("status") == "verified" ? 0 : 3;
}

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
    if (d->count() % 1000 != 0 || *d < std::chrono::seconds(1) || *d > std::chrono::days(7))
      return report("--duration '" + o.duration +
                    "' must be whole seconds from 1s to 7 days (604800 s), e.g. 30m");
    cmd.duration = std::chrono::duration_cast<std::chrono::seconds>(*d);
  }
  const std::string shown = command_takes_argument(cmd.type) ? cmd.argument : o.value;
  auto cfg = engine::load_config(o.config, engine::builtin_drivers());
  if (!cfg) return report(cfg.error().message);
  const auto& db = cfg->gateway.database;
  RealClock clock;
  Runtime rt(clock, 1);
  if (auto gw = store::OwnerLock::holder(db); gw && gw->role != "control")
    return via_gateway(cmd, shown, *cfg, *gw, rt);
  if (cmd.duration)
    return report("--duration: no gateway runs on the database " + db +
                  "; a command with a duration is held by the running gateway (sunbridge run), "
                  "which keeps it and hands it back when it ends");
  // No gateway: this process executes the command itself, holding the database's lock, with
  // the leases in the store respected. Commands are audited there, next to the gateway's own.
  auto config = std::move(*cfg);
  if (auto r = rt.start(config, false, false, "control"); !r) {
    // A gateway that started in the meantime takes the command after all.
    if (auto gw = store::OwnerLock::holder(db); gw && !gw->api.empty())
      return via_gateway(cmd, shown, config, *gw, rt);
    return report(r.error().message);
  }
  if (auto r = rt.wait(rt.gateway().discover_all()); !r) return report(r.error().message);
  if (auto r = rt.wait(rt.gateway().adopt_leases()); !r) return report(r.error().message);
  auto rec = rt.wait(rt.gateway().execute(cmd));
  if (!rec) return report(rec.error().message);
  // A release that ended a lease comes back as the command that restored the device.
  std::cout << rec->device << ": " << to_string(rec->type) << " "
            << (command_takes_argument(rec->type) ? rec->argument : net::number_text(rec->value))
            << " -> " << rec->status << " (" << rec->detail << "), audit id " << rec->id << "\n";
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
                  "how long the command should hold (whole seconds, 1s to 7 days, e.g. 30m); "
                  "held by the running gateway, which hands it back when it ends");
  cmd->footer(
      "While `sunbridge run` serves the configured database, every command goes to it through "
      "its API (gateway.api_token), so its leases and one-command-at-a-time rule hold for all.");
  cmd->callback([o, &rc] { rc = control(*o); });
}

}  // namespace sb::cli
