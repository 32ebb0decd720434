// The Solar-Log WEB Enerest simulator over real HTTP: client credentials at the Keycloak token
// endpoint, tokens that expire, the User API seeing only assigned plants, fleets for the Portal
// API only, the quota, and the administration calls' objects.
#include "vendors/solarlog/simulator.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "net/crypto.hpp"
#include "net/http_client.hpp"
#include "net/test_io.hpp"

using namespace sb;
using namespace std::chrono;
namespace json = boost::json;

namespace {

struct SolarLogSim : ::testing::Test {
  net::TestIo io;
  ManualClock clock{time_point_cast<Millis>(sys_days(2026y / 6 / 15) + hours(10))};
  net::HttpClient http{io.executor()};
  std::unique_ptr<solarlog::Simulator> sim;

  void SetUp() override {
    sim = std::make_unique<solarlog::Simulator>(io.executor(), clock);
    ASSERT_TRUE(sim->listen("127.0.0.1", 0));
  }
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
