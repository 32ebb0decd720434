#include "vendors/sonnen/vendor.hpp"

#include <sstream>

#include "vendors/sonnen/simulator.hpp"

namespace sb::sonnen {

namespace {

const std::vector<sim::SimFlag>& flags() {
  static const std::vector<sim::SimFlag> f = {
      {"--token", "also serve JSON API v2, with this Auth-Token", "", false},
      {"--vpp", "a virtual power plant has priority (v2 setpoints: 403)", "", true},
      {"--setpoint-timeout", "seconds a v2 setpoint holds unless written again (0: until the next)",
       "0", false},
  };
  return f;
}

Result<sim::Started> simulate(const sim::SimulateRequest& r) {
  SimOptions so;
  so.token = r.flag("--token", flags());
  so.vpp_priority = r.has("--vpp");
  auto timeout =
      sim::number_flag("--setpoint-timeout", r.flag("--setpoint-timeout", flags()), 0, 86'400);
  if (!timeout) return fail(timeout.error());
  so.setpoint_timeout = Millis(static_cast<std::int64_t>(*timeout * 1000));
  sim::Started started;
  std::ostringstream out;
  std::uint16_t first_port = 0;
  for (int i = 0; i < r.devices; ++i) {
    auto s = r.site;
    s.seed = r.seed + static_cast<std::uint64_t>(i);
    auto sim = std::make_unique<Simulator>(r.executor, *r.clock, s, r.faults, so);
    auto [host, port] = r.endpoint_of(i, first_port);
    if (auto l = sim->listen(host, port); !l) return fail(l.error());
    if (i == 0) first_port = sim->port();
    out << "listening on " << sim->url() << "\n";
    started.simulators.push_back(std::move(sim));
  }
  out << "sonnen API v1: GET /api/v1/status, PUT /api/v1/setpoint/{charge|discharge}/{W}\n";
  if (so.token.empty())
    out << "credentials: none (API v1 has no authentication; --token serves API v2 too)\n";
  else
    out << "sonnen API v2: GET /api/v2/{status,latestdata,configurations,battery,inverter,"
           "powermeter,io}, PUT /api/v2/configurations, POST "
           "/api/v2/setpoint/{charge|discharge}/{W}\n"
        << "token: " << so.token << " (header Auth-Token)"
        << (so.vpp_priority ? "; a virtual power plant has priority (setpoints answer 403)" : "")
        << "\n";
  started.banner = out.str();
  return started;
}

// A home in Berlin with a sonnenBatterie that speaks API v2 too (its token from the dashboard's
// Software-Integration page).
Result<sim::DemoHome> demo(const sim::DemoRequest& r) {
  sim::SiteConfig site;
  site.seed = r.seed;
  SimOptions so;
  so.token = sim::random_hex(32);
  auto sim = std::make_unique<Simulator>(r.executor, *r.clock, site, r.faults, so);
  if (auto l = sim->listen("127.0.0.1", 0); !l) return fail(l.error());
  sim::DemoHome home;
  home.site = {"home", "Demo home (Berlin)", site.latitude, site.longitude, site.timezone};
  home.site.pv = sim::pv_arrays(site);
  home.poll_interval = Millis(2000);
  home.options = {{"token", so.token}};
  home.banner = "sonnen sim  " + sim->url() + "/api/v2/status (Auth-Token " + so.token + ")";
  home.simulator = std::move(sim);
  return home;
}

}  // namespace

sim::Vendor vendor() {
  return {"sonnen", "sonnenBatterie", true, flags(), simulate, demo, std::nullopt, true};
}

}  // namespace sb::sonnen
