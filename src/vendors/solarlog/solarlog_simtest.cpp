// The Solar-Log WEB Enerest simulator over real HTTP: client credentials at the Keycloak token
// endpoint, tokens that expire, the User API seeing only assigned plants, fleets for the Portal
// API only, the quota, and the administration calls' objects.
#include "vendors/solarlog/simulator.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "net/crypto.hpp"
#include "net/http_client.hpp"
#include "net/test_io.hpp"
#include "vendors/solarlog/sim_fixture.hpp"

using namespace sb;
using namespace std::chrono;
namespace json = boost::json;

namespace {

struct SolarLogSim : SolarLogFixture {
  net::HttpResponse call(std::string method, std::string target, std::string body = {},
                         net::Headers headers = {}) {
    net::HttpRequest r{std::move(method), std::move(target), std::move(headers), std::move(body)};
    auto res = io.run(http.request({"127.0.0.1", sim->port(), false}, r));
    EXPECT_TRUE(res) << (res ? "" : res.error().message);
    return res ? *res : net::HttpResponse{};
  }
  std::string token(const std::string& client) {
    auto r = call("POST", "/auth/realms/quotaapi/protocol/openid-connect/token",
                  "grant_type=client_credentials&client_id=" + client + "&client_secret=" + client +
                      "-secret",
                  {{"Content-Type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? std::string(json::parse(r.body).at("access_token").as_string()) : "";
  }
  net::HttpResponse get(const std::string& path, const std::string& bearer) {
    return call("GET", "/api/v1/solarCompanyXYZ" + path, {},
                {{"Authorization", "Bearer " + bearer}});
  }
  static json::value body(const net::HttpResponse& r) { return json::parse(r.body); }
};

}  // namespace

TEST_F(SolarLogSim, ClientCredentialsGiveTokensThatExpire) {
  auto r =
      call("POST", "/auth/realms/quotaapi/protocol/openid-connect/token",
           "grant_type=client_credentials&client_id=user-basic&client_secret=user-basic-secret",
           {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto t = body(r).as_object();
  EXPECT_EQ(t.at("token_type"), "Bearer");
  EXPECT_EQ(t.at("expires_in").as_int64(), 300);
  // Basic client authentication works as well; a wrong secret or grant is refused.
  auto basic = call(
      "POST", "/auth/realms/quotaapi/protocol/openid-connect/token",
      "grant_type=client_credentials",
      {{"Content-Type", "application/x-www-form-urlencoded"},
       {"Authorization", "Basic " + crypto::base64_encode("portal-basic:portal-basic-secret")}});
  EXPECT_EQ(basic.status, 200);
  auto wrong = call("POST", "/auth/realms/quotaapi/protocol/openid-connect/token",
                    "grant_type=client_credentials&client_id=user-basic&client_secret=nope",
                    {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(body(wrong).at("error"), "unauthorized_client");
  auto grant = call("POST", "/auth/realms/quotaapi/protocol/openid-connect/token",
                    "grant_type=password&client_id=user-basic&client_secret=user-basic-secret",
                    {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(grant.status, 400);
  EXPECT_EQ(body(grant).at("error"), "unsupported_grant_type");

  auto access = std::string(t.at("access_token").as_string());
  EXPECT_EQ(get("/administration/plants", access).status, 200);
  auto none = get("/administration/plants", "");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(body(none).at("path"), "/api/v1/solarCompanyXYZ/administration/plants");
  clock.advance(seconds(300));
  auto expired = get("/administration/plants", access);
  EXPECT_EQ(expired.status, 401);
  EXPECT_EQ(body(expired).at("message"), "The access token has expired");
  EXPECT_NE(std::string(expired.header("WWW-Authenticate")).find("invalid_token"),
            std::string::npos);
  // Another portal's name in the path is not found.
  auto fresh = token("user-basic");
  EXPECT_EQ(call("GET", "/api/v1/otherPortal/administration/plants", {},
                 {{"Authorization", "Bearer " + fresh}})
                .status,
            404);
}

// At --speed 60 the plant runs an hour a minute while a token still lasts five real minutes.
TEST_F(SolarLogSim, TokensLastByTheWallClockWhenOneIsGiven) {
  ManualClock wall{clock.now()};
  solarlog::SimOptions o;
  o.wall_clock = &wall;
  start(o);
  auto access = token("user-basic");
  clock.advance(hours(2));  // simulated time
  EXPECT_EQ(get("/administration/plants", access).status, 200);
  wall.advance(seconds(300));  // real time
  EXPECT_EQ(get("/administration/plants", access).status, 401);
}

TEST_F(SolarLogSim, UsersSeeTheirPlantsAndPortalAccountsSeeAllWithFleets) {
  const auto& plants = sim->options().plants;
  auto basic = token("user-basic"), portal = token("portal-basic");
  auto mine = body(get("/administration/plants", basic)).as_array();
  ASSERT_EQ(mine.size(), 2u);
  EXPECT_EQ(mine[0].at("id"), json::value(plants[0].id));
  EXPECT_EQ(body(get("/administration/plants", portal)).as_array().size(), plants.size());
  // A plant not assigned to the user: 403 naming both; an unknown one: 404.
  auto other = get("/administration/plant/" + plants[3].id, basic);
  EXPECT_EQ(other.status, 403);
  EXPECT_EQ(body(other).at("message"),
            json::value("Plant " + plants[3].id + " is not assigned to client user-basic"));
  EXPECT_EQ(get("/administration/plant/" + plants[3].id, portal).status, 200);
  EXPECT_EQ(get("/administration/plant/00000000-0000-4000-a000-000000000000", portal).status, 404);
  // The plant object as the documentation shows it; singular and plural paths agree.
  auto one = body(get("/administration/plant/" + plants[0].id, basic)).as_object();
  EXPECT_EQ(one, body(get("/administration/plants/" + plants[0].id, basic)).as_object());
  EXPECT_EQ(one.at("vendor"), "SDS");
  EXPECT_EQ(one.at("deviceFullName"), "Solar-Log Base 15");
  EXPECT_EQ(one.at("label"), "1x Inverter, 2x Meter, 1x Battery, 1x EV Charger");
  EXPECT_EQ(one.at("plantSize").as_int64(), 8'000);
  EXPECT_EQ(std::string(one.at("installationDate").as_string()).substr(19), "+00:00");
  EXPECT_EQ(one.at("lastDataTransfer").at("lastTransferType"), "HTTP");
  auto address = body(get("/administration/plants/" + plants[0].id + "/address", basic));
  EXPECT_EQ(address.at("city"), "Freiburg");
  EXPECT_EQ(address, one.at("address"));
  auto contacts = body(get("/administration/plants/" + plants[0].id + "/contacts", basic));
  ASSERT_EQ(contacts.as_array().size(), 2u);
  EXPECT_EQ(contacts.as_array()[1].at("role"), "installer");
  // Fleets: the Portal API only.
  auto refused = get("/administration/fleets", token("user-advanced"));
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(std::string(body(refused).at("message").as_string()).find("Portal API"),
            std::string::npos);
  auto fleets = body(get("/administration/fleets", portal)).as_array();
  ASSERT_EQ(fleets.size(), 2u);
  auto south = body(get("/administration/fleet/fleet-south", portal)).as_object();
  EXPECT_EQ(south.at("plantIds").as_array().size(), 2u);
  EXPECT_EQ(get("/administration/fleet/nope", portal).status, 404);
}

TEST_F(SolarLogSim, TheQuotaRefusesWithRetryAfterAndFaultsAnswer503) {
  auto t = token("portal-advanced");
  int ok = 0;
  net::HttpResponse last;
  for (int i = 0; i < 61; ++i) {
    last = get("/administration/plants", t);
    if (last.status == 200) ++ok;
  }
  EXPECT_EQ(ok, 60);
  EXPECT_EQ(last.status, 429);
  EXPECT_EQ(last.header("Retry-After"), "60");
  // Each client has its own minute.
  EXPECT_EQ(get("/administration/plants", token("user-basic")).status, 200);
  clock.advance(seconds(60));
  EXPECT_EQ(get("/administration/plants", t).status, 200);
  sim::FaultSpec f;
  f.error_rate = 1;
  sim->set_faults(f);
  auto down = get("/administration/plants", t);
  EXPECT_EQ(down.status, 503);
  EXPECT_EQ(body(down).at("error"), "Service Unavailable");
}

namespace {

double sum(const json::value& series) {
  double s = 0;
  for (const auto& v : series.at("dataPoints").as_array())
    if (!v.is_null()) s += v.to_number<double>();
  return s;
}

double last_value(const json::value& series) {
  double x = 0;
  for (const auto& v : series.at("dataPoints").as_array())
    if (!v.is_null()) x = v.to_number<double>();
  return x;
}

// The series of `name` in an answer (the first one of that name).
const json::value& named(const json::value& answer, const std::string& name) {
  for (const auto& s : answer.as_array())
    if (s.at("name") == json::value(name)) return s;
  static const json::value none;
  ADD_FAILURE() << "no series " << name;
  return none;
}

}  // namespace

TEST_F(SolarLogSim, ComponentsOfAPlantForADate) {
  const auto& p = sim->options().plants[0];
  auto t = token("user-basic");
  auto today = body(get("/datasource/plant/" + p.id + "/components/2026-06-15", t)).as_array();
  std::map<std::string, int> types;
  for (const auto& c : today) ++types[std::string(c.at("type").as_string())];
  EXPECT_EQ(types["Inverter"], 1);
  EXPECT_EQ(types["MppTracker"], 2);  // one per PV string
  EXPECT_EQ(types["InverterString"], 4);
  EXPECT_EQ(types["Meter"], 2);
  EXPECT_EQ(types["Battery"], 1);
  EXPECT_EQ(types["Sensor"], 2);
  EXPECT_EQ(types["EVCharger"], 1);
  EXPECT_EQ(types["SolarLogIntern"], 1);
  // The wallbox came 200 days ago; before the installation there was nothing.
  auto year_ago = body(get("/datasource/plant/" + p.id + "/components/2025-06-15", t)).as_array();
  EXPECT_EQ(year_ago.size(), today.size() - 1);
  EXPECT_TRUE(
      body(get("/datasource/plant/" + p.id + "/components/2020-01-01", t)).as_array().empty());
  auto bad = get("/datasource/plant/" + p.id + "/components/15.06.2026", t);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(body(bad).at("message"), "Invalid date '15.06.2026': expected YYYY-MM-DD");
  // A plant of another user: 403, as for every plant call.
  EXPECT_EQ(
      get("/datasource/plant/" + sim->options().plants[3].id + "/components/2026-06-15", t).status,
      403);
}

TEST_F(SolarLogSim, PlantValuesOfEveryPeriodAgreeWithEachOther) {
  const auto& p = sim->options().plants[0];
  auto t = token("user-basic");
  auto vis = "/visualization/plant/" + p.id;
  const std::string channels =
      "?channelNames=ProdE,ProdEtotal,ConsE,ChargeE,DischargeE,ImportE,ExportE,BatSoc,ProdPac";
  // Today (12:00 local): 288 5-minute values, those after now null.
  auto today = get(vis + "/year/2026/month/6/day/15" + channels, t);
  ASSERT_EQ(today.status, 200) << today.body;
  auto day = body(today);
  const auto& prod = named(day, "ProdE");
  EXPECT_EQ(prod.at("resolution"), "5min");
  EXPECT_EQ(prod.at("unit"), "Wh");
  EXPECT_EQ(prod.at("date"), "2026-06-15");
  const auto& points = prod.at("dataPoints").as_array();
  ASSERT_EQ(points.size(), 288u);
  EXPECT_FALSE(points[143].is_null());  // 11:55-12:00 has ended
  EXPECT_TRUE(points[144].is_null());
  EXPECT_GT(sum(prod), 5'000);  // a June morning on 8 kWp
  // The energy balance holds in every slot.
  for (std::size_t i = 0; i < 144; ++i) {
    auto v = [&](const char* n) {
      return named(day, n).at("dataPoints").as_array()[i].to_number<double>();
    };
    EXPECT_NEAR(v("ProdE") + v("ImportE") + v("DischargeE"),
                v("ConsE") + v("ExportE") + v("ChargeE"), 0.01)
        << "slot " << i;
    EXPECT_NEAR(v("ProdPac") / 12, v("ProdE"), 0.01);
  }
  // The counter ends where the lifetime's yearly values add up to.
  auto life = body(get(vis + "/lifetime?channelNames=ProdE&channelNames=ProdEtotal", t));
  EXPECT_EQ(named(life, "ProdE").at("resolution"), "year");
  EXPECT_NEAR(sum(named(life, "ProdE")), last_value(named(day, "ProdEtotal")), 1);
  EXPECT_NEAR(last_value(named(life, "ProdEtotal")), last_value(named(day, "ProdEtotal")), 1);
  // A month's daily values are the days' sums; a year's monthly values the months'.
  auto june = body(get(vis + "/year/2026/month/6?channelNames[]=ProdE&channelNames[]=BatSoc", t));
  EXPECT_EQ(named(june, "ProdE").at("dataPoints").as_array().size(), 30u);
  auto june14 = body(get(vis + "/year/2026/month/6/day/14?channelNames=ProdE", t));
  EXPECT_NEAR(named(june, "ProdE").at("dataPoints").as_array()[13].to_number<double>(),
              sum(named(june14, "ProdE")), 0.01);
  EXPECT_TRUE(named(june, "ProdE").at("dataPoints").as_array()[15].is_null());  // the 16th
  auto year = body(get(vis + "/year/2026?channelNames=ProdE", t));
  EXPECT_EQ(named(year, "ProdE").at("resolution"), "month");
  EXPECT_NEAR(named(year, "ProdE").at("dataPoints").as_array()[5].to_number<double>(),
              sum(named(june, "ProdE")), 0.01);
  // Power has 5-minute values only; an unknown channel is named.
  auto coarse = get(vis + "/year/2026?channelNames=ProdPac", t);
  EXPECT_EQ(coarse.status, 400);
  EXPECT_EQ(body(coarse).at("message"),
            "Channel ProdPac has 5-minute values only; ask for a day or a date range");
  auto unknown = get(vis + "/lifetime?channelNames=Yield", t);
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(std::string(body(unknown).at("message").as_string()).substr(0, 24),
            "Unknown channel 'Yield';");
  EXPECT_EQ(get(vis + "/lifetime", t).status, 400);
  EXPECT_EQ(get(vis + "/year/2026/month/13?channelNames=ProdE", t).status, 400);
  EXPECT_EQ(get(vis + "/year/2026/month/2/day/30?channelNames=ProdE", t).status, 400);
  // A range: one series per day and channel, at most 31 days.
  auto two =
      body(get(vis + "/channels?dateFrom=2026-06-13&dateTo=2026-06-14&channelNames=ProdE", t));
  ASSERT_EQ(two.as_array().size(), 2u);
  EXPECT_EQ(two.as_array()[1].at("date"), "2026-06-14");
  EXPECT_NEAR(sum(two.as_array()[1]), sum(named(june14, "ProdE")), 0.01);
  auto long_range =
      get(vis + "/channels?dateFrom=2026-05-01&dateTo=2026-06-14&channelNames=ProdE", t);
  EXPECT_EQ(long_range.status, 400);
  EXPECT_EQ(body(long_range).at("message"),
            "The range 2026-05-01 to 2026-06-14 has 45 days; at most 31 are allowed");
  // The third plant has no battery.
  auto nobat =
      get("/visualization/plant/" + sim->options().plants[2].id + "/lifetime?channelNames=ChargeE",
          token("portal-basic"));
  EXPECT_EQ(nobat.status, 400);
  EXPECT_EQ(body(nobat).at("message"), "Channel ChargeE: the plant has no battery");
}

TEST_F(SolarLogSim, ComponentValuesAndKpisAreTheAdvancedPackages) {
  const auto& p = sim->options().plants[1];  // two inverters
  auto vis = "/visualization/plant/" + p.id;
  auto basic = token("user-basic"), advanced = token("user-advanced");
  auto comps = body(get("/datasource/plant/" + p.id + "/components/2026-06-15", advanced));
  std::vector<std::string> inverters, trackers, strings;
  std::string irradiance;
  for (const auto& c : comps.as_array()) {
    auto id = std::to_string(c.at("crossEpochId").as_int64());
    if (c.at("type") == "Inverter") inverters.push_back(id);
    if (c.at("type") == "MppTracker") trackers.push_back(id);
    if (c.at("type") == "InverterString") strings.push_back(id);
    if (c.at("type") == "Sensor" && c.at("sensorType") == "irradiance") irradiance = id;
  }
  ASSERT_EQ(inverters.size(), 2u);
  ASSERT_EQ(trackers.size(), 2u);
  auto cross = vis +
               "/cross-epoch/"
               "channels?dateFrom=2026-06-14&dateTo=2026-06-14&channelNames=ProdE&xComponentIds=" +
               inverters[0] + "," + inverters[1];
  // Basic: refused with the reason.
  auto refused = get(cross, basic);
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(body(refused).at("message"),
            "Component values are part of the Advanced package; client user-basic has the "
            "user-basic package");
  EXPECT_EQ(get(vis + "/lifetime?channelNames=ProdE&xComponentIds=" + inverters[0], basic).status,
            403);
  EXPECT_EQ(get(vis + "/kpis?dateFrom=2026-06-01&dateTo=2026-06-14", basic).status, 403);
  // Advanced: the inverters add up to the plant.
  auto per = body(get(cross, advanced)).as_array();
  ASSERT_EQ(per.size(), 2u);
  EXPECT_EQ(per[0].at("componentId").as_int64(), std::stoll(inverters[0]));
  auto plant = body(get(vis + "/year/2026/month/6/day/14?channelNames=ProdE", advanced));
  EXPECT_NEAR(sum(per[0]) + sum(per[1]), sum(named(plant, "ProdE")), 0.05);
  // A tracker's two strings share its power; the irradiance sensor reads the sun.
  auto dc = body(get(
      vis + "/channels?dateFrom=2026-06-14&dateTo=2026-06-14&channelNames=Pdc,Udc&mppTrackerIds=" +
          trackers[0],
      advanced));
  auto str = body(
      get(vis +
              "/cross-epoch/"
              "channels?dateFrom=2026-06-14&dateTo=2026-06-14&channelNames=Pdc&xComponentIds=" +
              strings[0],
          advanced));
  EXPECT_NEAR(sum(named(dc, "Pdc")), 2 * sum(str.as_array()[0]), 0.05);
  EXPECT_GT(named(dc, "Udc").at("dataPoints").as_array()[144].to_number<double>(), 100);
  auto irr = body(get(
      vis + "/year/2026/month/6/day/14?channelNames=Irr&xComponentIds=" + irradiance, advanced));
  EXPECT_GT(named(irr, "Irr").at("dataPoints").as_array()[144].to_number<double>(), 100);
  // Wrong components are named.
  auto notracker =
      get(vis + "/channels?dateFrom=2026-06-14&dateTo=2026-06-14&channelNames=Pdc&mppTrackerIds=" +
              inverters[0],
          advanced);
  EXPECT_EQ(notracker.status, 400);
  EXPECT_EQ(body(notracker).at("message"), json::value("mppTrackerIds: component " + inverters[0] +
                                                       " is a Inverter, not a MppTracker"));
  auto wrong_channel =
      get(vis + "/lifetime?channelNames=BatSoc&xComponentIds=" + inverters[0], advanced);
  EXPECT_EQ(wrong_channel.status, 400);
  EXPECT_EQ(
      body(wrong_channel).at("message"),
      json::value("Channel BatSoc is not available for component " + inverters[0] + " (Inverter)"));
  EXPECT_EQ(
      get(vis + "/cross-epoch/channels?dateFrom=2026-06-14&dateTo=2026-06-14&channelNames=ProdE",
          advanced)
          .status,
      400);
  // KPIs of a fortnight.
  auto k = body(get(vis + "/kpis?dateFrom=2026-06-01&dateTo=2026-06-14", advanced));
  EXPECT_GT(k.at("specificYield").to_number<double>(), 40);  // kWh/kWp in two June weeks
  EXPECT_LT(k.at("specificYield").to_number<double>(), 110);
  EXPECT_GT(k.at("performanceRatio").to_number<double>(), 60);
  EXPECT_LT(k.at("performanceRatio").to_number<double>(), 130);
  EXPECT_GT(k.at("autarky").to_number<double>(), 30);
  EXPECT_LE(k.at("autarky").to_number<double>(), 100);
  EXPECT_LE(k.at("availability").to_number<double>(), 100);
}

TEST_F(SolarLogSim, ComponentEventsAndCountedFaults) {
  const auto& p = sim->options().plants[0];
  auto t = token("user-basic");
  auto events =
      body(get("/datasource/plant/" + p.id + "/events?dateFrom=2026-03-01&dateTo=2026-06-15", t))
          .as_array();
  int errors = 0, infos = 0;
  for (const auto& e : events) {
    if (e.at("severity") == "error") {
      ++errors;
      EXPECT_EQ(e.at("componentType"), "Inverter");
      EXPECT_EQ(e.at("code"), "E 207");
    }
    if (e.at("severity") == "info") ++infos;
  }
  EXPECT_GT(errors, 3);  // about one day in eleven
  EXPECT_GT(infos, 10);  // the battery is full on most spring days
  EXPECT_EQ(
      get("/datasource/plant/" + p.id + "/events?dateFrom=2025-01-01&dateTo=2026-06-15", t).status,
      400);
  // Counted faults: a burst of 503, then a body cut in half.
  sim->fail_next(2);
  EXPECT_EQ(get("/administration/plants", t).status, 503);
  EXPECT_EQ(get("/administration/plants", t).status, 503);
  sim->malform_next(1);
  auto cut = get("/administration/plants", t);
  EXPECT_EQ(cut.status, 200);
  boost::system::error_code ec;
  json::parse(cut.body, ec);
  EXPECT_TRUE(ec);
  EXPECT_EQ(get("/administration/plants", t).status, 200);
  EXPECT_NO_THROW(json::parse(get("/administration/plants", t).body));
}
