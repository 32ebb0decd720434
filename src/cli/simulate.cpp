#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <iostream>
#include <optional>
#include <thread>

#include "cli/commands.hpp"
#include "engine/config.hpp"
#include "sim/faults.hpp"
#include "vendors/enphase/simulator.hpp"
#include "vendors/foxess/simulator.hpp"
#include "vendors/kostal/simulator.hpp"
#include "vendors/solarlog/simulator.hpp"
#include "vendors/sonnen/simulator.hpp"

namespace sb::cli {

namespace {

struct SimulateOptions {
  std::string vendor;
  std::string listen = "127.0.0.1:8080";
  int devices = 1;
  std::string faults;
  double speed = 1;
  std::uint64_t seed = 1;
  double latitude = 52.52, longitude = 13.40;
  std::string timezone = "Europe/Berlin";
  double capacity_wh = 10'000, max_power_w = 4'600, cloudiness = 0.3;
  std::string password = "owner-password", master_key = "MASTERKEY01234", service_code = "12345";
  int session_idle_s = 900;
  std::string firmware = "current";
  int plants = 1, daily_calls = 1440;
  std::string api_key = foxess::SimOptions{}.api_key;
  std::string client_id = foxess::SimOptions{}.oauth_client_id;
  std::string client_secret = foxess::SimOptions{}.oauth_client_secret;
  std::string token;
  bool vpp = false;
  std::string plan = "watt";
  std::string portal = "solarCompanyXYZ";
  std::string package = "user-advanced";
  bool api_key_given = false, client_id_given = false, client_secret_given = false;
  double setpoint_timeout_s = 0;
};

// Runs the simulators until SIGINT / SIGTERM.
template <class Sim>
int serve(boost::asio::io_context& io, std::vector<std::unique_ptr<Sim>>& sims) {
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) {
    for (auto& s : sims) s->stop();
    io.stop();
  });
  std::thread second([&] { io.run(); });
  io.run();
  second.join();
  std::cout << "stopped\n";
  return 0;
}

int simulate(const SimulateOptions& o) {
  if (o.vendor != "sonnen" && o.vendor != "kostal" && o.vendor != "foxess" &&
      o.vendor != "enphase" && o.vendor != "solarlog")
    return report("no simulator for vendor '" + o.vendor +
                  "' yet (valid: enphase, foxess, kostal, solarlog, sonnen)");
  auto hp = engine::parse_host_port(o.listen);
  if (!hp) return report("--listen: " + hp.error().message);
  auto faults = sim::parse_fault_spec(o.faults);
  if (!faults) return report("--faults: " + faults.error().message);
  if (!(o.speed > 0 && o.speed <= 100'000)) return report("--speed must be within (0, 100000]");
  if (o.devices < 1 || o.devices > 1000) return report("--devices must be within 1..1000");
  sim::SiteConfig site;
  site.latitude = o.latitude;
  site.longitude = o.longitude;
  site.timezone = o.timezone;
  site.battery.capacity_wh = o.capacity_wh;
  site.battery.max_charge_w = site.battery.max_discharge_w = o.max_power_w;
  site.cloudiness = o.cloudiness;
  if (auto ok = sim::validate(site); !ok) return report(ok.error().message);

  boost::asio::io_context io;
  RealClock wall_clock;
  ScaledClock clock(wall_clock.now(), o.speed);
  if (o.vendor == "foxess") {
    if (o.plants < 1 || o.plants > o.devices)
      return report("--plants must be within 1..--devices (" + std::to_string(o.devices) + ")");
    if (o.daily_calls < 1) return report("--daily-calls must be at least 1");
    if (o.api_key.size() < 8) return report("--api-key must have at least 8 characters");
    if (o.client_id.empty() || o.client_secret.empty())
      return report("--client-id and --client-secret must not be empty");
    foxess::SimOptions fo;
    fo.api_key = o.api_key;
    fo.oauth_client_id = o.client_id;
    fo.oauth_client_secret = o.client_secret;
    fo.daily_calls_per_inverter = o.daily_calls;
    fo.wall_clock = &wall_clock;  // signatures carry the real time, whatever the speed
    // --devices inverters spread over --plants plants (the first plants get one more).
    fo.plants = foxess::make_account(o.plants, 1, o.seed, o.devices >= 3, site);
    for (int i = o.plants, p = 0; i < o.devices; ++i, p = (p + 1) % o.plants) {
      auto extra = foxess::make_account(1, i + 1, o.seed, o.devices >= 3, site)[0].inverters.back();
      extra.site.latitude = fo.plants[std::size_t(p)].inverters[0].site.latitude;
      extra.site.longitude = fo.plants[std::size_t(p)].inverters[0].site.longitude;
      fo.plants[std::size_t(p)].inverters.push_back(extra);
    }
    std::vector<std::unique_ptr<foxess::Simulator>> sims;
    sims.push_back(std::make_unique<foxess::Simulator>(io.get_executor(), clock, fo, *faults));
    if (auto r = sims[0]->listen(hp->first, hp->second); !r) return report(r.error().message);
    std::cout << "listening on " << sims[0]->url() << "\n"
              << "FoxESS Open API: /op/v0/... and /op/v1/... (" << o.devices << " inverter(s) in "
              << o.plants << " plant(s); " << o.daily_calls << " calls per inverter per day)\n"
              << "credentials: api key '" << o.api_key << "' (header token, signed requests)\n"
              << "OAuth app: client id '" << o.client_id << "', secret '" << o.client_secret
              << "' (/public/auth/index.html approves at once; /oauth2/token, refresh, revoke)\n"
              << "speed " << o.speed << "x, seed " << o.seed
              << (faults->any() ? ", faults " + to_string(*faults) : "") << "\n"
              << std::flush;
    return serve(io, sims);
  }
  if (o.vendor == "solarlog") {
    if (o.portal.empty() || o.portal.find_first_of("/?#. ") != std::string::npos)
      return report("--portal '" + o.portal +
                    "' is not a portal name (the first label of <portal>.enerest.world)");
    solarlog::SimOptions so;
    so.wall_clock = &wall_clock;  // tokens last real time, whatever the speed
    so.portal = o.portal;
    so.plants = solarlog::make_plants(std::max(4, o.devices), o.seed);
    // One client of the operator's choice instead of the four default ones; a User API client
    // has every plant assigned.
    if (o.client_id_given || o.client_secret_given) {
      if (!o.client_id_given || !o.client_secret_given)
        return report("--client-id and --client-secret go together for solarlog");
      if (o.client_id.empty() || o.client_secret.empty())
        return report("--client-id and --client-secret must not be empty");
      std::optional<solarlog::Package> package;
      for (auto p : {solarlog::Package::UserBasic, solarlog::Package::UserAdvanced,
                     solarlog::Package::PortalBasic, solarlog::Package::PortalAdvanced})
        if (solarlog::to_string(p) == o.package) package = p;
      if (!package)
        return report("--package '" + o.package +
                      "' is not one of user-basic, user-advanced, portal-basic, portal-advanced");
      solarlog::SimClient c{o.client_id, o.client_secret, *package, {}};
      if (!solarlog::is_portal(*package))
        for (const auto& p : so.plants) c.plants.push_back(p.id);
      so.clients = {c};
    }
    std::vector<std::unique_ptr<solarlog::Simulator>> sims;
    sims.push_back(std::make_unique<solarlog::Simulator>(io.get_executor(), clock, so, *faults));
    if (auto r = sims[0]->listen(hp->first, hp->second); !r) return report(r.error().message);
    const auto& opt = sims[0]->options();
    std::cout << "listening on " << sims[0]->url() << "\n"
              << "Solar-Log WEB Enerest: /api/v1/" << opt.portal << "/administration/plants ("
              << opt.plants.size() << " plants, " << opt.per_minute
              << " calls a minute per client)\n"
              << "token: POST /auth/realms/quotaapi/protocol/openid-connect/token "
                 "(grant_type=client_credentials)\n";
    for (const auto& c : opt.clients)
      std::cout << "client: " << c.client_id << " secret " << c.client_secret << " ("
                << solarlog::to_string(c.package) << ", "
                << (solarlog::is_portal(c.package) ? "all plants"
                                                   : std::to_string(c.plants.size()) + " plants")
                << ")\n";
    std::cout << "speed " << o.speed << "x, seed " << o.seed
              << (faults->any() ? ", faults " + to_string(*faults) : "") << "\n"
              << std::flush;
    return serve(io, sims);
  }
  if (o.vendor == "enphase") {
    auto plan = enphase::parse_plan(o.plan);
    if (!plan)
      return report("--plan '" + o.plan + "' is not one of watt, kilowatt, megawatt, partner");
    enphase::SimOptions eo;
    eo.wall_clock = &wall_clock;  // tokens last real time, whatever the speed
    eo.plan = *plan;
    eo.partner_app = *plan == enphase::Plan::Partner;
    eo.systems = enphase::make_fleet(o.devices, o.seed);
    // One more system, of another user: its id answers 403.
    auto other = enphase::make_fleet(1, o.seed + 500).front();
    other.id = 698'999'000 + static_cast<std::int64_t>(o.seed % 1000);
    other.owner = "neighbour@example.org";
    other.name = "Neighbour's system";
    eo.systems.push_back(other);
    // --api-key, --client-id, --client-secret default to FoxESS's; given, they are the app's.
    if (o.api_key_given) eo.api_key = o.api_key;
    if (o.client_id_given) eo.client_id = o.client_id;
    if (o.client_secret_given) eo.client_secret = o.client_secret;
    std::vector<std::unique_ptr<enphase::Simulator>> sims;
    sims.push_back(std::make_unique<enphase::Simulator>(io.get_executor(), clock, eo, *faults));
    if (auto r = sims[0]->listen(hp->first, hp->second); !r) return report(r.error().message);
    const auto& so = sims[0]->options();
    auto limits = enphase::plan_limits(so.plan);
    std::cout << "listening on " << sims[0]->url() << "\n"
              << "Enphase Monitoring API v4: /api/v4/systems... (" << o.devices
              << " system(s); plan " << limits.name << ", " << limits.per_minute
              << " calls a minute, " << limits.per_month << " a month)\n"
              << "access_token: " << sims[0]->default_access_token() << "\n"
              << "api_key: " << so.api_key << "\n"
              << "another user's system: " << so.systems.back().id << " (answers 403)\n"
              << "OAuth app: client id '" << so.client_id << "', secret '" << so.client_secret
              << "' (/oauth/authorize approves at once; POST /oauth/token with Basic client auth)\n"
              << "speed " << o.speed << "x, seed " << o.seed
              << (faults->any() ? ", faults " + to_string(*faults) : "") << "\n"
              << std::flush;
    return serve(io, sims);
  }
  if (o.vendor == "kostal") {
    if (o.session_idle_s < 1) return report("--session-idle must be at least 1 second");
    kostal::SimOptions ko;
    ko.owner_password = o.password;
    ko.master_key = o.master_key;
    ko.service_code = o.service_code;
    ko.session_idle = std::chrono::seconds(o.session_idle_s);
    ko.empty_units = ko.legacy_network_ids = o.firmware == "2019";
    std::vector<std::unique_ptr<kostal::Simulator>> sims;
    for (int i = 0; i < o.devices; ++i) {
      auto s = site;
      s.seed = o.seed + static_cast<std::uint64_t>(i);
      auto opts = ko;
      opts.serial = "90512ABC" + std::to_string(1000 + i);
      auto sim = std::make_unique<kostal::Simulator>(io.get_executor(), clock, s, opts, *faults);
      std::uint16_t port = hp->second == 0 ? 0 : static_cast<std::uint16_t>(hp->second + i);
      if (auto r = sim->listen(hp->first, port); !r) return report(r.error().message);
      std::cout << "listening on " << sim->url() << "\n";
      sims.push_back(std::move(sim));
    }
    std::cout << "KOSTAL PLENTICORE plus API: base /api/v1 (auth/start, processdata, settings, "
                 "events/latest, logdata/download, ...)\n"
              << "credentials: user password '" << o.password << "'; master key '" << o.master_key
              << "' with service code '" << o.service_code << "'\n"
              << "speed " << o.speed << "x, seed " << o.seed
              << (faults->any() ? ", faults " + to_string(*faults) : "") << "\n"
              << std::flush;
    return serve(io, sims);
  }
  std::vector<std::unique_ptr<sonnen::Simulator>> sims;
  for (int i = 0; i < o.devices; ++i) {
    auto s = site;
    s.seed = o.seed + static_cast<std::uint64_t>(i);
    sonnen::SimOptions so;
    so.token = o.token;
    so.vpp_priority = o.vpp;
    so.setpoint_timeout = Millis(static_cast<std::int64_t>(o.setpoint_timeout_s * 1000));
    auto sim = std::make_unique<sonnen::Simulator>(io.get_executor(), clock, s, *faults, so);
    std::uint16_t port = hp->second == 0 ? 0 : static_cast<std::uint16_t>(hp->second + i);
    if (auto r = sim->listen(hp->first, port); !r) return report(r.error().message);
    std::cout << "listening on " << sim->url() << "\n";
    sims.push_back(std::move(sim));
  }
  std::cout << "sonnen API v1: GET /api/v1/status, PUT /api/v1/setpoint/{charge|discharge}/{W}\n";
  if (o.token.empty())
    std::cout << "credentials: none (API v1 has no authentication; --token serves API v2 too)\n";
  else
    std::cout << "sonnen API v2: GET /api/v2/{status,latestdata,configurations,battery,inverter,"
                 "powermeter,io}, PUT /api/v2/configurations, POST "
                 "/api/v2/setpoint/{charge|discharge}/{W}\n"
              << "token: " << o.token << " (header Auth-Token)"
              << (o.vpp ? "; a virtual power plant has priority (setpoints answer 403)" : "")
              << "\n";
  std::cout << "speed " << o.speed << "x, seed " << o.seed
            << (faults->any() ? ", faults " + to_string(*faults) : "") << "\n"
            << std::flush;
  return serve(io, sims);
}

}  // namespace

void register_simulate(CLI::App& app, int& rc) {
  auto* cmd = app.add_subcommand(
      "simulate", "Serve a faithful simulator of a vendor API over a simulated site");
  auto o = std::make_shared<SimulateOptions>();
  cmd->add_option("vendor", o->vendor,
                  "vendor to simulate (enphase, foxess, kostal, solarlog, sonnen)")
      ->required();
  cmd->add_option("--listen", o->listen, "HOST:PORT; port 0 picks a free one")
      ->capture_default_str();
  cmd->add_option("--devices", o->devices,
                  "simulated devices, on consecutive ports (foxess: inverters of one account)")
      ->capture_default_str();
  cmd->add_option("--faults", o->faults,
                  "e.g. latency=200ms,jitter=50ms,error=0.1,drop=0.05,malformed=0.02,seed=7");
  cmd->add_option("--speed", o->speed, "time acceleration (60 = an hour a minute)")
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "weather and load seed; same seed, same site")
      ->capture_default_str();
  cmd->add_option("--latitude", o->latitude, "site latitude, degrees north")->capture_default_str();
  cmd->add_option("--longitude", o->longitude, "site longitude, degrees east")
      ->capture_default_str();
  cmd->add_option("--timezone", o->timezone, "site time zone (IANA)")->capture_default_str();
  cmd->add_option("--capacity-wh", o->capacity_wh, "battery capacity, Wh")->capture_default_str();
  cmd->add_option("--max-power-w", o->max_power_w, "battery charge/discharge limit, W")
      ->capture_default_str();
  cmd->add_option("--cloudiness", o->cloudiness, "0 clear .. 1 overcast")->capture_default_str();
  cmd->add_option("--password", o->password, "kostal: the plant owner's password")
      ->capture_default_str();
  cmd->add_option("--master-key", o->master_key, "kostal: the installer's master key")
      ->capture_default_str();
  cmd->add_option("--service-code", o->service_code, "kostal: the installer's service code")
      ->capture_default_str();
  cmd->add_option("--session-idle", o->session_idle_s,
                  "kostal: seconds before an idle session ends")
      ->capture_default_str();
  cmd->add_option("--plants", o->plants, "foxess: plants the --devices inverters are spread over")
      ->capture_default_str();
  auto* api_key = cmd->add_option("--api-key", o->api_key,
                                  "foxess: the account's API key; enphase: the application's")
                      ->capture_default_str();
  cmd->add_option("--daily-calls", o->daily_calls, "foxess: calls per inverter per day")
      ->capture_default_str();
  auto* client_id = cmd->add_option("--client-id", o->client_id,
                                    "foxess, enphase: the OAuth app's client id; solarlog: the "
                                    "one client the portal knows")
                        ->capture_default_str();
  auto* client_secret = cmd->add_option("--client-secret", o->client_secret,
                                        "foxess, enphase: the OAuth app's client secret; "
                                        "solarlog: that client's secret")
                            ->capture_default_str();
  cmd->add_option("--plan", o->plan, "enphase: watt, kilowatt, megawatt or partner")
      ->capture_default_str();
  cmd->add_option("--portal", o->portal, "solarlog: the portal's name, in /api/v1/{portal}/")
      ->capture_default_str();
  cmd->add_option("--token", o->token, "sonnen: also serve JSON API v2, with this Auth-Token");
  cmd->add_flag("--vpp", o->vpp, "sonnen: a virtual power plant has priority (v2 setpoints: 403)");
  cmd->add_option("--setpoint-timeout", o->setpoint_timeout_s,
                  "sonnen: seconds a v2 setpoint holds unless written again (0: until the next)")
      ->check(CLI::Range(0.0, 86400.0))
      ->capture_default_str();
  cmd->add_option("--firmware", o->firmware,
                  "kostal: 'current', or '2019' (process-data units empty, scb:network ids "
                  "without the Network: prefix)")
      ->check(CLI::IsMember({"current", "2019"}))
      ->capture_default_str();
  auto* package = cmd->add_option("--package", o->package,
                                  "solarlog, with --client-id: user-basic, user-advanced, "
                                  "portal-basic or portal-advanced")
                      ->capture_default_str();
  // The simulators that use each vendor-specific flag: any other refuses it, rather than
  // ignore what the user asked for.
  std::vector<std::pair<CLI::Option*, std::vector<std::string>>> uses;
  auto used_by = [&](const std::string& flag, std::vector<std::string> vendors) {
    uses.emplace_back(cmd->get_option(flag), std::move(vendors));
  };
  const std::vector<std::string> sites = {"foxess", "kostal", "sonnen"};
  for (auto f : {"--latitude", "--longitude", "--timezone", "--capacity-wh", "--max-power-w",
                 "--cloudiness"})
    used_by(f, sites);
  for (auto f : {"--password", "--master-key", "--service-code", "--session-idle", "--firmware"})
    used_by(f, {"kostal"});
  for (auto f : {"--plants", "--daily-calls"}) used_by(f, {"foxess"});
  used_by("--api-key", {"enphase", "foxess"});
  for (auto f : {"--client-id", "--client-secret"}) used_by(f, {"enphase", "foxess", "solarlog"});
  used_by("--plan", {"enphase"});
  for (auto f : {"--portal", "--package"}) used_by(f, {"solarlog"});
  for (auto f : {"--token", "--vpp", "--setpoint-timeout"}) used_by(f, {"sonnen"});
  cmd->callback([o, &rc, api_key, client_id, client_secret, package, uses] {
    for (const auto& [option, vendors] : uses) {
      if (option->count() == 0 ||
          std::find(vendors.begin(), vendors.end(), o->vendor) != vendors.end())
        continue;
      std::string list;
      for (const auto& v : vendors) list += (list.empty() ? "" : ", ") + v;
      rc = report(option->get_name() + " is for the " + list + " simulator" +
                  (vendors.size() > 1 ? "s" : "") + "; the " + o->vendor +
                  " simulator does not use it");
      return;
    }
    if (package->count() > 0 && client_id->count() == 0) {
      rc = report("--package names the package of the --client-id client; give both");
      return;
    }
    o->api_key_given = api_key->count() > 0;
    o->client_id_given = client_id->count() > 0;
    o->client_secret_given = client_secret->count() > 0;
    rc = simulate(*o);
  });
}

}  // namespace sb::cli
