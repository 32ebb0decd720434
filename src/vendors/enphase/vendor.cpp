#include "vendors/enphase/vendor.hpp"

#include <sstream>

#include "net/driver_env.hpp"
#include "vendors/enphase/client.hpp"
#include "vendors/enphase/simulator.hpp"

namespace sb::enphase {

namespace {

const std::vector<sim::SimFlag>& flags() {
  static const SimOptions d;
  static const std::vector<sim::SimFlag> f = {
      {"--plan", "watt, kilowatt, megawatt or partner", "watt", false},
      {"--api-key", "the application's API key", d.api_key, false},
      {"--client-id", "the OAuth app's client id", d.client_id, false},
      {"--client-secret", "the OAuth app's client secret", d.client_secret, false},
  };
  return f;
}

Result<sim::Started> simulate(const sim::SimulateRequest& r) {
  auto name = r.flag("--plan", flags());
  auto plan = parse_plan(name);
  if (!plan)
    return fail(ErrorKind::InvalidArgument,
                "--plan '" + name + "' is not one of watt, kilowatt, megawatt, partner");
  SimOptions eo;
  eo.wall_clock = r.wall_clock;  // tokens last real time, whatever the speed
  eo.plan = *plan;
  eo.partner_app = *plan == Plan::Partner;
  eo.systems = make_fleet(r.devices, r.seed);
  // One more system, of another user: its id answers 403.
  auto other = make_fleet(1, r.seed + 500).front();
  other.id = 698'999'000 + static_cast<std::int64_t>(r.seed % 1000);
  other.owner = "neighbour@example.org";
  other.name = "Neighbour's system";
  eo.systems.push_back(other);
  eo.api_key = r.flag("--api-key", flags());
  eo.client_id = r.flag("--client-id", flags());
  eo.client_secret = r.flag("--client-secret", flags());
  if (eo.api_key.empty() || eo.client_id.empty() || eo.client_secret.empty())
    return fail(ErrorKind::InvalidArgument,
                "--api-key, --client-id and --client-secret must not be empty");
  auto sim = std::make_unique<Simulator>(r.executor, *r.clock, eo, r.faults);
  if (auto l = sim->listen(r.host, r.port); !l) return fail(l.error());
  auto limits = plan_limits(eo.plan);
  std::ostringstream out;
  out << "listening on " << sim->url() << "\n"
      << "Enphase Monitoring API v4: /api/v4/systems... (" << r.devices << " system(s); plan "
      << limits.name << ", " << limits.per_minute << " calls a minute, " << limits.per_month
      << " a month)\n"
      << "access_token: " << sim->default_access_token() << "\n"
      << "api_key: " << eo.api_key << "\n"
      << "another user's system: " << eo.systems.back().id << " (answers 403)\n"
      << "OAuth app: client id '" << eo.client_id << "', secret '" << eo.client_secret
      << "' (/oauth/authorize approves at once; POST /oauth/token with Basic client auth)\n";
  return sim::Started::one(std::move(sim), out.str());
}

// An Enphase system in Amsterdam (the Partner plan): IQ microinverters, an IQ Battery and an IQ
// EV Charger. The demo signs in for the owner: the tokens go to a file beside the database, as
// `sunbridge auth enphase` would leave them, made anew at each start and removed at the end.
Result<sim::DemoHome> demo(const sim::DemoRequest& r) {
  SimOptions eo;
  eo.wall_clock = r.wall_clock;  // tokens last real time, whatever the speed
  auto amsterdam = make_fleet(2, r.seed + 3)[1];
  amsterdam.name = "Demo home 3 (Amsterdam)";
  amsterdam.encharges = 1;
  amsterdam.ev_charger = true;
  amsterdam.site.battery = sim::BatteryConfig{};
  eo.systems = {amsterdam};
  eo.plan = Plan::Partner;
  auto sim = std::make_unique<Simulator>(r.executor, *r.clock, eo, r.faults);
  if (auto l = sim->listen("127.0.0.1", 0); !l) return fail(l.error());
  sim::DemoHome home;
  auto tokens = r.database + ".enphase-tokens.json";
  home.files.push_back(tokens);
  auto t = sim->issue_tokens();
  if (auto w = net::save_token_file(tokens, {eo.client_id, t.access_token, t.refresh_token,
                                             r.wall_clock->now() + t.expires_in});
      !w)
    return fail(w.error());
  home.site = {"amsterdam", amsterdam.name, amsterdam.site.latitude, amsterdam.site.longitude,
               amsterdam.site.timezone};
  home.site.pv = sim::pv_arrays(amsterdam.site);
  home.poll_interval = Millis(60'000);
  home.options = {{"api_key", eo.api_key},
                  {"client_id", eo.client_id},
                  {"client_secret", eo.client_secret},
                  {"token_file", tokens},
                  {"plan", "partner"}};
  home.banner = "Enphase sim " + sim->url() + "/api/v4/systems (key " + eo.api_key +
                ", tokens in " + tokens + ")";
  home.simulator = std::move(sim);
  return home;
}

net::OAuthApp oauth() {
  net::OAuthApp app;
  app.label = "Enphase";
  app.portal = "Enlighten";
  app.sign_in = [](const ConnectionConfig& c) -> Result<net::OAuthSignIn> {
    auto opt = [&](const char* k) {
      auto it = c.options.find(k);
      return it == c.options.end() ? std::string() : it->second;
    };
    net::OAuthSignIn s{opt("client_id"), opt("client_secret"), opt("token_file"), {}};
    for (auto [k, v] : {std::pair{"client_id", &s.client_id},
                        {"client_secret", &s.client_secret},
                        {"token_file", &s.token_file}})
      if (v->empty())
        return fail(ErrorKind::InvalidArgument,
                    c.where + ": connection '" + c.name + "' has no " + k +
                        " (the application's OAuth client from the Enphase developer portal, "
                        "and the file for the tokens)");
    auto cloud = c;
    if (cloud.host.empty())
      cloud.host = "api.enphaseenergy.com", cloud.tls = true, cloud.port = 443;
    s.cloud = endpoint_of(cloud, cloud.tls ? 443 : 80);
    return s;
  };
  app.authorize_url = [](const net::OAuthSignIn& s, const std::string& redirect, const std::string&,
                         const std::string& state) {
    return Client::authorize_url(s.cloud, s.client_id, redirect, state);
  };
  app.exchange_code = [](net::HttpClient& http, net::OAuthSignIn s, std::string code,
                         std::string redirect,
                         Millis timeout) -> boost::asio::awaitable<Result<net::OAuthTokens>> {
    Client client(http, s.cloud, "", timeout);
    co_return co_await client.exchange_code(s.client_id, s.client_secret, code, redirect);
  };
  return app;
}

}  // namespace

sim::Vendor vendor() {
  return {"enphase", "Enphase Monitoring API v4", false, flags(), simulate, demo, oauth()};
}

}  // namespace sb::enphase
