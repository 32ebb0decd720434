#include "vendors/solarlog/vendor.hpp"

#include <algorithm>
#include <sstream>

#include "vendors/solarlog/simulator.hpp"

namespace sb::solarlog {

namespace {

const std::vector<sim::SimFlag>& flags() {
  static const SimOptions d;
  static const std::vector<sim::SimFlag> f = {
      {"--portal", "the portal's name, in /api/v1/{portal}/", d.portal, false},
      {"--client-id", "the one client the portal knows (else four, one per package)", "", false},
      {"--client-secret", "that client's secret", "", false},
      {"--package", "with --client-id: user-basic, user-advanced, portal-basic or portal-advanced",
       "user-advanced", false},
  };
  return f;
}

Result<sim::Started> simulate(const sim::SimulateRequest& r) {
  SimOptions so;
  so.portal = r.flag("--portal", flags());
  if (so.portal.empty() || so.portal.find_first_of("/?#. ") != std::string::npos)
    return fail(ErrorKind::InvalidArgument,
                "--portal '" + so.portal +
                    "' is not a portal name (the first label of <portal>.enerest.world)");
  so.wall_clock = r.wall_clock;  // tokens last real time, whatever the speed
  so.plants = make_plants(std::max(4, r.devices), r.seed);
  if (r.has("--package") && !r.has("--client-id"))
    return fail(ErrorKind::InvalidArgument,
                "--package names the package of the --client-id client; give both");
  // One client of the operator's choice instead of the four default ones; a User API client
  // has every plant assigned.
  if (r.has("--client-id") || r.has("--client-secret")) {
    if (!r.has("--client-id") || !r.has("--client-secret"))
      return fail(ErrorKind::InvalidArgument,
                  "--client-id and --client-secret go together for solarlog");
    auto id = r.flag("--client-id", flags()), secret = r.flag("--client-secret", flags());
    if (id.empty() || secret.empty())
      return fail(ErrorKind::InvalidArgument, "--client-id and --client-secret must not be empty");
    auto name = r.flag("--package", flags());
    std::optional<Package> package;
    for (auto p :
         {Package::UserBasic, Package::UserAdvanced, Package::PortalBasic, Package::PortalAdvanced})
      if (to_string(p) == name) package = p;
    if (!package)
      return fail(ErrorKind::InvalidArgument,
                  "--package '" + name +
                      "' is not one of user-basic, user-advanced, portal-basic, portal-advanced");
    SimClient c{id, secret, *package, {}};
    if (!is_portal(*package))
      for (const auto& p : so.plants) c.plants.push_back(p.id);
    so.clients = {c};
  }
  auto sim = std::make_unique<Simulator>(r.executor, *r.clock, so, r.faults);
  if (auto l = sim->listen(r.host, r.port); !l) return fail(l.error());
  const auto& opt = sim->options();
  std::ostringstream out;
  out << "listening on " << sim->url() << "\n"
      << "Solar-Log WEB Enerest: /api/v1/" << opt.portal << "/administration/plants ("
      << opt.plants.size() << " plants, " << opt.per_minute << " calls a minute per client)\n"
      << "token: POST /auth/realms/quotaapi/protocol/openid-connect/token "
         "(grant_type=client_credentials)\n";
  for (const auto& c : opt.clients)
    out << "client: " << c.client_id << " secret " << c.client_secret << " ("
        << to_string(c.package) << ", "
        << (is_portal(c.package) ? "all plants" : std::to_string(c.plants.size()) + " plants")
        << ")\n";
  return sim::Started::one(std::move(sim), out.str());
}

// A plant in Freiburg on a Solar-Log WEB Enerest portal, read with a User API client of the
// Advanced package: a Solar-Log Base, an inverter with two MPP trackers, a battery, sensors and
// a wallbox.
Result<sim::DemoHome> demo(const sim::DemoRequest& r) {
  SimOptions so;
  so.wall_clock = r.wall_clock;
  so.plants = make_plants(1, r.seed + 4);
  so.plants[0].name = "Demo home 4 (Freiburg)";
  so.clients = {{"demo-user", sim::random_hex(32), Package::UserAdvanced, {so.plants[0].id}}};
  auto sim = std::make_unique<Simulator>(r.executor, *r.clock, so, r.faults);
  if (auto l = sim->listen("127.0.0.1", 0); !l) return fail(l.error());
  const auto& plant = so.plants[0];
  sim::DemoHome home;
  home.site = {"freiburg", plant.name, plant.site.latitude, plant.site.longitude,
               plant.site.timezone};
  home.site.pv = sim::pv_arrays(plant.site);
  home.poll_interval = Millis(60'000);
  home.options = {{"portal", so.portal},
                  {"client_id", so.clients[0].client_id},
                  {"client_secret", so.clients[0].client_secret}};
  home.banner = "Solar-Log   " + sim->url() + "/api/v1/" + so.portal +
                "/administration/plants (client demo-user, secret " + so.clients[0].client_secret +
                ")";
  home.simulator = std::move(sim);
  return home;
}

}  // namespace

sim::Vendor vendor() {
  return {"solarlog", "Solar-Log WEB Enerest", false, flags(), simulate, demo, std::nullopt};
}

}  // namespace sb::solarlog
