#include "vendors/foxess/vendor.hpp"

#include <sstream>

#include "net/driver_env.hpp"
#include "vendors/foxess/client.hpp"
#include "vendors/foxess/driver.hpp"
#include "vendors/foxess/simulator.hpp"

namespace sb::foxess {

namespace {

const std::vector<sim::SimFlag>& flags() {
  static const SimOptions d;
  static const std::vector<sim::SimFlag> f = {
      {"--plants", "plants the --devices inverters are spread over", "1", false},
      {"--daily-calls", "calls per inverter per day", std::to_string(d.daily_calls_per_inverter),
       false},
      {"--api-key", "the account's API key", d.api_key, false},
      {"--client-id", "the OAuth app's client id", d.oauth_client_id, false},
      {"--client-secret", "the OAuth app's client secret", d.oauth_client_secret, false},
  };
  return f;
}

Result<sim::Started> simulate(const sim::SimulateRequest& r) {
  auto plants = sim::whole_flag("--plants", r.flag("--plants", flags()), 1, r.devices);
  if (!plants)
    return fail(ErrorKind::InvalidArgument,
                "--plants must be within 1..--devices (" + std::to_string(r.devices) + ")");
  auto daily = sim::whole_flag("--daily-calls", r.flag("--daily-calls", flags()), 1, 100'000'000);
  if (!daily) return fail(daily.error());
  SimOptions fo;
  fo.api_key = r.flag("--api-key", flags());
  fo.oauth_client_id = r.flag("--client-id", flags());
  fo.oauth_client_secret = r.flag("--client-secret", flags());
  if (fo.api_key.size() < 8)
    return fail(ErrorKind::InvalidArgument, "--api-key must have at least 8 characters");
  if (fo.oauth_client_id.empty() || fo.oauth_client_secret.empty())
    return fail(ErrorKind::InvalidArgument, "--client-id and --client-secret must not be empty");
  fo.daily_calls_per_inverter = static_cast<int>(*daily);
  fo.wall_clock = r.wall_clock;  // signatures carry the real time, whatever the speed
  // --devices inverters spread over --plants plants (the first plants get one more).
  int n = static_cast<int>(*plants);
  fo.plants = make_account(n, 1, r.seed, r.devices >= 3, r.site);
  for (int i = n, p = 0; i < r.devices; ++i, p = (p + 1) % n) {
    auto extra = make_account(1, i + 1, r.seed, r.devices >= 3, r.site)[0].inverters.back();
    extra.site.latitude = fo.plants[std::size_t(p)].inverters[0].site.latitude;
    extra.site.longitude = fo.plants[std::size_t(p)].inverters[0].site.longitude;
    fo.plants[std::size_t(p)].inverters.push_back(extra);
  }
  auto sim = std::make_unique<Simulator>(r.executor, *r.clock, fo, r.faults);
  if (auto l = sim->listen(r.host, r.port); !l) return fail(l.error());
  std::ostringstream out;
  out << "listening on " << sim->url() << "\n"
      << "FoxESS Open API: /op/v0/... and /op/v1/... (" << r.devices << " inverter(s) in " << n
      << " plant(s); " << fo.daily_calls_per_inverter << " calls per inverter per day)\n"
      << "credentials: api key '" << fo.api_key << "' (header token, signed requests)\n"
      << "OAuth app: client id '" << fo.oauth_client_id << "', secret '" << fo.oauth_client_secret
      << "' (/public/auth/index.html approves at once; /oauth2/token, refresh, revoke)\n";
  return sim::Started::one(std::move(sim), out.str());
}

// An installer's FoxESS Cloud account: three inverters in two plants, one without battery.
Result<sim::DemoHome> demo(const sim::DemoRequest& r) {
  SimOptions fo;
  fo.wall_clock = r.wall_clock;  // signatures carry the real time, whatever the speed
  sim::SiteConfig base;
  base.cloudiness = 0.4;
  fo.plants = make_account(2, 1, r.seed + 2, false, base);
  auto third = make_account(1, 3, r.seed + 2, true, base)[0].inverters.back();
  fo.plants[1].inverters.push_back(third);  // F3, no battery
  auto sim = std::make_unique<Simulator>(r.executor, *r.clock, fo, r.faults);
  if (auto l = sim->listen("127.0.0.1", 0); !l) return fail(l.error());
  sim::DemoHome home;
  home.site = {"fleet", "Demo installer fleet (FoxESS Cloud)", 53.55, 9.99, "Europe/Berlin"};
  for (const auto& plant : fo.plants)  // the account's inverters, as one site
    for (const auto& inverter : plant.inverters)
      for (const auto& a : sim::pv_arrays(inverter.site)) home.site.pv.push_back(a);
  home.poll_interval = Millis(10'000);
  home.options = {{"api_key", fo.api_key}};
  home.banner = "FoxESS sim  " + sim->url() + "/op/v0/device/list (api key " + fo.api_key + ")";
  home.simulator = std::move(sim);
  return home;
}

net::OAuthApp oauth() {
  net::OAuthApp app;
  app.label = "FoxESS";
  app.portal = "FoxESS Cloud";
  app.sign_in = [](const ConnectionConfig& c) -> Result<net::OAuthSignIn> {
    auto a = oauth_app(c);
    if (!a) return fail(a.error());
    if (!*a)
      return fail(ErrorKind::InvalidArgument,
                  c.where + ": connection '" + c.name +
                      "' has no client_id, client_secret and token_file for OAuth (the app's id "
                      "and secret from the FoxESS Cloud personal center, the file for the "
                      "tokens)");
    return net::OAuthSignIn{(*a)->client_id, (*a)->client_secret, (*a)->token_file,
                            endpoint_of(with_cloud_defaults(c), 443)};
  };
  app.authorize_url = [](const net::OAuthSignIn& s, const std::string& redirect,
                         const std::string& scope, const std::string& state) {
    return Client::authorize_url(s.cloud, s.client_id, redirect, scope, state);
  };
  app.exchange_code = [](net::HttpClient& http, net::OAuthSignIn s, std::string code,
                         std::string redirect,
                         Millis timeout) -> boost::asio::awaitable<Result<net::OAuthTokens>> {
    RealClock clock;
    Client client(http, s.cloud, "", clock, timeout);
    co_return co_await client.exchange_code(s.client_id, s.client_secret, code, redirect);
  };
  return app;
}

}  // namespace

sim::Vendor vendor() {
  return {"foxess", "FoxESS Cloud", true, flags(), simulate, demo, oauth()};
}

}  // namespace sb::foxess
