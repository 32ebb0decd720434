#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <iostream>
#include <map>
#include <random>

#include "cli/commands.hpp"
#include "cli/fleet_demo.hpp"
#include "cli/runtime.hpp"
#include "cli/vendors.hpp"

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
  bool fleet = false;  ///< several workers on PostgreSQL (fleet_demo.cpp)
  int sites = 250, workers = 3;
};

int demo(const DemoOptions& o) {
  auto faults = sim::parse_fault_spec(o.faults);
  if (!faults) return report("--faults: " + faults.error().message);
  if (o.fleet) return fleet_demo({o.db, o.listen, o.sites, o.workers, 20, o.seed, *faults});
  auto hp = engine::parse_host_port(o.listen);
  if (!hp) return report("--listen: " + hp.error().message);
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
  // The simulators run on their own io_context, as the real devices would on their own boxes;
  // one home per vendor, each with its own site.
  boost::asio::io_context sim_io;
  sim::DemoRequest request{sim_io.get_executor(), &sim_clock, &clock, o.seed, *faults, o.db};
  // The homes' simulators, served by one thread; stopped before their io_context goes, and
  // what the homes wrote (the Enphase sign-in's tokens, made anew at each start) removed
  // however the demo ends.
  struct Homes {
    boost::asio::io_context& io;
    std::vector<sim::DemoHome> list;
    std::thread thread;
    void stop() {
      for (auto& h : list) h.simulator->stop();
      io.stop();
      if (thread.joinable()) thread.join();
    }
    ~Homes() {
      stop();
      for (const auto& h : list)
        for (const auto& f : h.files) std::remove(f.c_str());
    }
  } homes{sim_io, {}, {}};
  for (const auto& v : vendors()) {
    auto home = v.demo(request);
    if (!home) return report(v.title + " demo home: " + home.error().message);
    homes.list.push_back(std::move(*home));
  }
  homes.thread = std::thread([&] { sim_io.run(); });

  engine::Config cfg;
  cfg.path = "<demo>";
  cfg.gateway.listen_host = hp->first;
  cfg.gateway.listen_port = hp->second;
  cfg.gateway.database = o.db;
  cfg.gateway.api_token = sim::random_hex(32);
  cfg.mqtt = mqtt;
  // One connection to each home's simulator on loopback, named after its vendor.
  for (std::size_t i = 0; i < homes.list.size(); ++i) {
    const auto& home = homes.list[i];
    cfg.sites.push_back(home.site);
    ConnectionConfig c;
    c.name = c.vendor = vendors()[i].name;
    c.site = home.site.id;
    c.host = "127.0.0.1";
    c.port = home.simulator->port();
    c.poll_interval = home.poll_interval;
    c.timeout = Millis(3000);
    c.where = "<demo>";
    c.options = home.options;
    cfg.connections.push_back(std::move(c));
  }
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
                <<
          [&] {
            std::string lines;
            for (const auto& h : homes.list) lines += "  " + h.banner + "\n";
            return lines;
          }()
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
  homes.stop();
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
  cmd->add_flag("--fleet", o->fleet,
                "a fleet: homes across the five vendors shared by --workers `sunbridge run` "
                "workers on the PostgreSQL database --db (make fleet-demo starts one)");
  cmd->add_option("--sites", o->sites, "--fleet: simulated homes")->capture_default_str();
  cmd->add_option("--workers", o->workers, "--fleet: workers, on --listen's port and the next")
      ->capture_default_str();
  cmd->callback([o, &rc] { rc = demo(*o); });
}

}  // namespace sb::cli
