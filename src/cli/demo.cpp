#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <iostream>
#include <map>
#include <random>

#include "cli/commands.hpp"
#include "cli/runtime.hpp"
#include "net/token_file.hpp"
#include "vendors/enphase/simulator.hpp"
#include "vendors/foxess/simulator.hpp"
#include "vendors/kostal/simulator.hpp"
#include "vendors/solarlog/simulator.hpp"
#include "vendors/sonnen/simulator.hpp"

namespace sb::cli {

namespace {

struct DemoOptions {
  std::string listen = "127.0.0.1:8080";
  std::string db = "sunbridge-demo.db";
  double speed = 1;
  std::uint64_t seed = 1;
  std::string faults;
  std::string mqtt;  ///< broker URL; empty: no MQTT
  std::string mqtt_prefix = "sunbridge";
};

std::string random_token() {
  std::random_device rd;
  std::string t;
  const char* hex = "0123456789abcdef";
  for (int i = 0; i < 32; ++i) t += hex[rd() % 16];
  return t;
}

int demo(const DemoOptions& o) {
  auto hp = engine::parse_host_port(o.listen);
  if (!hp) return report("--listen: " + hp.error().message);
  auto faults = sim::parse_fault_spec(o.faults);
  if (!faults) return report("--faults: " + faults.error().message);
  if (!(o.speed > 0 && o.speed <= 100'000)) return report("--speed must be within (0, 100000]");
  std::optional<MqttSettings> mqtt;
  if (!o.mqtt.empty()) {
    auto m = parse_mqtt_url(o.mqtt);
    if (!m) return report("--mqtt: " + m.error().message);
    if (auto why = mqtt_prefix_problem(o.mqtt_prefix); !why.empty())
      return report("--mqtt-prefix " + why);
    m->prefix = o.mqtt_prefix;
    mqtt = *m;
  }

  RealClock clock;
  ScaledClock sim_clock(clock.now(), o.speed);
  // The simulators run on their own io_context, as the real devices would on their own boxes.
  boost::asio::io_context sim_io;
  sim::SiteConfig site;
  site.seed = o.seed;
  // The battery speaks API v2 too (its token from the dashboard's Software-Integration page).
  sonnen::SimOptions sonnen_options;
  sonnen_options.token = random_token();
  sonnen::Simulator sonnen_sim(sim_io.get_executor(), sim_clock, site, *faults, sonnen_options);
  if (auto r = sonnen_sim.listen("127.0.0.1", 0); !r) return report(r.error().message);
  // A second home with a KOSTAL PLENTICORE plus hybrid inverter and its battery.
  sim::SiteConfig munich;
  munich.latitude = 48.14;
  munich.longitude = 11.58;
  munich.seed = o.seed + 1;
  munich.inverter_max_w = 10'000;
  kostal::SimOptions kostal_options;
  kostal::Simulator kostal_sim(sim_io.get_executor(), sim_clock, munich, kostal_options, *faults);
  if (auto r = kostal_sim.listen("127.0.0.1", 0); !r) return report(r.error().message);
  // An installer's FoxESS Cloud account: three inverters in two plants, one without battery.
  foxess::SimOptions fox_options;
  fox_options.wall_clock = &clock;  // signatures carry the real time, whatever the speed
  sim::SiteConfig fox_base;
  fox_base.cloudiness = 0.4;
  fox_options.plants = foxess::make_account(2, 1, o.seed + 2, false, fox_base);
  auto third = foxess::make_account(1, 3, o.seed + 2, true, fox_base)[0].inverters.back();
  fox_options.plants[1].inverters.push_back(third);  // F3, no battery
  foxess::Simulator fox_sim(sim_io.get_executor(), sim_clock, fox_options, *faults);
  if (auto r = fox_sim.listen("127.0.0.1", 0); !r) return report(r.error().message);
  // An Enphase system in Amsterdam (Enphase's cloud, the Partner plan): IQ microinverters, an IQ
  // Battery and an IQ EV Charger. The demo signs in for the user: its tokens go to a file beside
  // the database, as `sunbridge auth enphase` would leave them.
  enphase::SimOptions enphase_options;
  enphase_options.wall_clock = &clock;  // tokens last real time, whatever the speed
  auto amsterdam = enphase::make_fleet(2, o.seed + 3)[1];
  amsterdam.name = "Demo home 3 (Amsterdam)";
  amsterdam.encharges = 1;
  amsterdam.ev_charger = true;
  amsterdam.site.battery = sim::BatteryConfig{};
  enphase_options.systems = {amsterdam};
  enphase_options.plan = enphase::Plan::Partner;
  enphase::Simulator enphase_sim(sim_io.get_executor(), sim_clock, enphase_options, *faults);
  if (auto r = enphase_sim.listen("127.0.0.1", 0); !r) return report(r.error().message);
  auto enphase_tokens = o.db + ".enphase-tokens.json";
  // The demo's own sign-in, made anew at each start: gone when the demo ends, however it ends.
  struct RemoveAtExit {
    std::string path;
    ~RemoveAtExit() { std::remove(path.c_str()); }
  } remove_tokens{enphase_tokens};
  {
    auto t = enphase_sim.issue_tokens();
    if (auto w =
            net::save_token_file(enphase_tokens, {enphase_options.client_id, t.access_token,
                                                  t.refresh_token, clock.now() + t.expires_in});
        !w)
      return report(w.error().message);
  }
  // A plant in Freiburg on a Solar-Log WEB Enerest portal, read with a User API client of the
  // Advanced package: a Solar-Log Base, an inverter with two MPP trackers, a battery, sensors
  // and a wallbox.
  solarlog::SimOptions solarlog_options;
  solarlog_options.wall_clock = &clock;
  solarlog_options.plants = solarlog::make_plants(1, o.seed + 4);
  solarlog_options.plants[0].name = "Demo home 4 (Freiburg)";
  solarlog_options.clients = {{"demo-user",
                               random_token(),
                               solarlog::Package::UserAdvanced,
                               {solarlog_options.plants[0].id}}};
  solarlog::Simulator solarlog_sim(sim_io.get_executor(), sim_clock, solarlog_options, *faults);
  if (auto r = solarlog_sim.listen("127.0.0.1", 0); !r) return report(r.error().message);
  std::thread sim_thread([&] { sim_io.run(); });

  engine::Config cfg;
  cfg.path = "<demo>";
  cfg.gateway.listen_host = hp->first;
  cfg.gateway.listen_port = hp->second;
  cfg.gateway.database = o.db;
  cfg.gateway.api_token = random_token();
  cfg.mqtt = mqtt;
  cfg.sites.push_back({"home", "Demo home (Berlin)", site.latitude, site.longitude, site.timezone});
  // One connection to a demo simulator on loopback, named after its vendor.
  auto connect = [&cfg](const std::string& vendor, const std::string& site, int port, Millis poll,
                        std::map<std::string, std::string> options) {
    ConnectionConfig c;
    c.name = c.vendor = vendor;
    c.site = site;
    c.host = "127.0.0.1";
    c.port = port;
    c.poll_interval = poll;
    c.timeout = Millis(3000);
    c.where = "<demo>";
    c.options = std::move(options);
    cfg.connections.push_back(std::move(c));
  };
  connect("sonnen", "home", sonnen_sim.port(), Millis(2000), {{"token", sonnen_options.token}});
  cfg.sites.push_back(
      {"munich", "Demo home 2 (Munich)", munich.latitude, munich.longitude, munich.timezone});
  connect("kostal", "munich", kostal_sim.port(), Millis(2000),
          {{"password", kostal_options.owner_password}});
  cfg.sites.push_back(
      {"fleet", "Demo installer fleet (FoxESS Cloud)", 53.55, 9.99, "Europe/Berlin"});
  connect("foxess", "fleet", fox_sim.port(), Millis(10'000), {{"api_key", fox_options.api_key}});
  cfg.sites.push_back({"amsterdam", amsterdam.name, amsterdam.site.latitude,
                       amsterdam.site.longitude, amsterdam.site.timezone});
  connect("enphase", "amsterdam", enphase_sim.port(), Millis(60'000),
          {{"api_key", enphase_options.api_key},
           {"client_id", enphase_options.client_id},
           {"client_secret", enphase_options.client_secret},
           {"token_file", enphase_tokens},
           {"plan", "partner"}});
  const auto& freiburg = solarlog_options.plants[0];
  cfg.sites.push_back({"freiburg", freiburg.name, freiburg.site.latitude, freiburg.site.longitude,
                       freiburg.site.timezone});
  connect("solarlog", "freiburg", solarlog_sim.port(), Millis(60'000),
          {{"portal", solarlog_options.portal},
           {"client_id", solarlog_options.clients[0].client_id},
           {"client_secret", solarlog_options.clients[0].client_secret}});
  auto token = cfg.gateway.api_token;

  int rc = 0;
  {
    Runtime rt(clock, 2);
    if (auto r = rt.start(std::move(cfg), true, true, "demo"); !r) {
      rc = report(
          r.error().message +
          (hp->second != 0 ? " (another program on that port? try --listen 127.0.0.1:0)" : ""));
    } else {
      std::string base = "http://" + hp->first + ":" + std::to_string(rt.port());
      std::cout << "sunbridge demo\n"
                << "  dashboard   " << base << "/#token=" << token << "\n"
                << "  REST API    " << base << "/api/v1/health\n"
                << "  API token   " << token << "\n"
                << "  sonnen sim  " << sonnen_sim.url() << "/api/v2/status (Auth-Token "
                << sonnen_options.token << ")\n"
                << "  KOSTAL sim  " << kostal_sim.url() << "/api/v1/info/version (password "
                << kostal_options.owner_password << ")\n"
                << "  FoxESS sim  " << fox_sim.url() << "/op/v0/device/list (api key "
                << fox_options.api_key << ")\n"
                << "  Enphase sim " << enphase_sim.url() << "/api/v4/systems (key "
                << enphase_options.api_key << ", tokens in " << enphase_tokens << ")\n"
                << "  Solar-Log   " << solarlog_sim.url() << "/api/v1/" << solarlog_options.portal
                << "/administration/plants (client demo-user, secret "
                << solarlog_options.clients[0].client_secret << ")\n"
                << (mqtt
                        ? "  MQTT        " + o.mqtt + " (topics " + mqtt->prefix +
                              "/..., Home Assistant discovery " + mqtt->discovery_prefix + "/...)\n"
                        : std::string())
                << "  database    " << o.db << "\n"
                << "  speed       " << o.speed << "x\n"
                << "Press Ctrl-C to stop.\n"
                << std::flush;
      rt.run_until_signal([] { std::cout << "stopping…\n" << std::flush; });
    }
  }
  sonnen_sim.stop();
  kostal_sim.stop();
  fox_sim.stop();
  enphase_sim.stop();
  solarlog_sim.stop();
  sim_io.stop();
  sim_thread.join();
  if (rc == 0) std::cout << "stopped\n";
  return rc;
}

}  // namespace

void register_demo(CLI::App& app, int& rc) {
  auto* cmd = app.add_subcommand(
      "demo", "Simulators + gateway + dashboard on loopback, with a SQLite file");
  auto o = std::make_shared<DemoOptions>();
  cmd->add_option("--listen", o->listen, "dashboard and API address, HOST:PORT (port 0 picks one)")
      ->capture_default_str();
  cmd->add_option("--db", o->db, "SQLite database file")->capture_default_str();
  cmd->add_option("--speed", o->speed, "simulated time acceleration")->capture_default_str();
  cmd->add_option("--seed", o->seed, "simulation seed")->capture_default_str();
  cmd->add_option("--faults", o->faults, "faults for the simulators, e.g. error=0.1,latency=200ms");
  cmd->add_option("--mqtt", o->mqtt,
                  "publish to this MQTT broker with Home Assistant discovery, e.g. "
                  "mqtt://user:password@192.168.1.10:1883");
  cmd->add_option("--mqtt-prefix", o->mqtt_prefix, "topic prefix")->capture_default_str();
  cmd->callback([o, &rc] { rc = demo(*o); });
}

}  // namespace sb::cli
