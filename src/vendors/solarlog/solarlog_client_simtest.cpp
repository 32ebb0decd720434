// The Solar-Log client over HTTP against the simulator: every call's answer as a struct, and the
// portal's refusals as errors of the right kind that carry its reason.
#include "vendors/solarlog/client.hpp"

#include <gtest/gtest.h>

#include "net/http_client.hpp"
#include "net/test_io.hpp"
#include "vendors/solarlog/sim_fixture.hpp"
#include "vendors/solarlog/simulator.hpp"

using namespace sb;
using namespace std::chrono;

namespace {

struct SolarLogClient : SolarLogFixture {
  solarlog::Client client(const std::string& id) {
    net::Endpoint e{"127.0.0.1", sim->port(), false};
    return solarlog::Client(
        http, {e, e, "solarCompanyXYZ", id, id + "-secret", net::kTestRequestTimeout}, clock);
  }
  const std::string& plant(int i) { return sim->options().plants[i].id; }
};

}  // namespace

TEST_F(SolarLogClient, EveryCallGivesItsStruct) {
  auto c = client("portal-advanced");
  auto plants = io.run(c.plants());
  ASSERT_TRUE(plants) << plants.error().message;
  ASSERT_EQ(plants->size(), 4u);
  EXPECT_EQ((*plants)[0].timezone, "Europe/Berlin");
  EXPECT_EQ((*plants)[0].size_w, 8000);
  ASSERT_TRUE((*plants)[0].installed);
  auto one = io.run(c.plant(plant(2)));
  ASSERT_TRUE(one);
  EXPECT_EQ(one->timezone, "Europe/Vienna");
  auto address = io.run(c.address(plant(2)));
  ASSERT_TRUE(address);
  EXPECT_EQ(address->city, "Linz");
  auto fleets = io.run(c.fleets());
  ASSERT_TRUE(fleets);
  ASSERT_EQ(fleets->size(), 2u);
  auto south = io.run(c.fleet("fleet-south"));
  ASSERT_TRUE(south);
  EXPECT_EQ(south->plants, (std::vector<std::string>{plant(0), plant(2)}));
  auto comps = io.run(c.components(plant(0), "2026-06-15"));
  ASSERT_TRUE(comps);
  std::vector<std::int64_t> trackers;
  std::int64_t inverter = 0;
  for (const auto& x : *comps) {
    if (x.type == "MppTracker") trackers.push_back(x.id);
    if (x.type == "Inverter") inverter = x.id;
  }
  ASSERT_EQ(trackers.size(), 2u);
  auto day = io.run(c.day(plant(0), "2026-06-14", {"ProdE", "ProdEtotal"}));
  ASSERT_TRUE(day) << day.error().message;
  ASSERT_EQ(day->size(), 2u);
  EXPECT_EQ((*day)[0].points.size(), 288u);
  EXPECT_EQ((*day)[0].resolution, "5min");
  auto month = io.run(c.month(plant(0), 2026, 6, {"ProdE"}, {inverter}));
  ASSERT_TRUE(month) << month.error().message;
  EXPECT_EQ((*month)[0].component, inverter);
  EXPECT_EQ((*month)[0].points.size(), 30u);
  EXPECT_FALSE((*month)[0].points[29]);  // the 30th has not come yet
  auto year = io.run(c.year(plant(0), 2026, {"ProdE"}));
  ASSERT_TRUE(year);
  EXPECT_EQ((*year)[0].points.size(), 12u);
  auto life = io.run(c.lifetime(plant(0), {"ProdEtotal"}));
  ASSERT_TRUE(life);
  EXPECT_EQ((*life)[0].resolution, "year");
  auto range = io.run(c.range(plant(0), "2026-06-13", "2026-06-14", {"Pdc"}, trackers));
  ASSERT_TRUE(range) << range.error().message;
  EXPECT_EQ(range->size(), 4u);  // two days, two trackers
  auto cross = io.run(c.cross_epoch(plant(0), {inverter}, {"ProdPac"}, "2026-06-14", "2026-06-14"));
  ASSERT_TRUE(cross);
  EXPECT_EQ((*cross)[0].points.size(), 288u);
  auto k = io.run(c.kpis(plant(0), "2026-06-01", "2026-06-14"));
  ASSERT_TRUE(k);
  ASSERT_TRUE(k->specific_yield);
  EXPECT_GT(*k->specific_yield, 40);
  auto events = io.run(c.events(plant(0), "2026-03-01", "2026-06-15"));
  ASSERT_TRUE(events);
  EXPECT_FALSE(events->empty());
  EXPECT_EQ(c.calls(), 14);
}

TEST_F(SolarLogClient, RefusalsAreErrorsWithThePortalsReason) {
  auto basic = client("user-basic");
  auto kpi = io.run(basic.kpis(plant(0), "2026-06-01", "2026-06-14"));
  ASSERT_FALSE(kpi);
  EXPECT_EQ(kpi.error().kind, ErrorKind::NotSupported);
  EXPECT_NE(kpi.error().message.find("HTTP 403 Plant KPIs are part of the Advanced package"),
            std::string::npos)
      << kpi.error().message;
  auto fleets = io.run(basic.fleets());
  ASSERT_FALSE(fleets);
  EXPECT_EQ(fleets.error().kind, ErrorKind::NotSupported);
  auto unknown = io.run(basic.plant("00000000-0000-4000-a000-000000000000"));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().kind, ErrorKind::NotFound);
  auto bad = io.run(basic.day(plant(0), "2026-06-14", {"Yield"}));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::Protocol);
  EXPECT_NE(bad.error().message.find("Unknown channel 'Yield'"), std::string::npos);
  // A cut body is a protocol error naming the call; a 503 a transient one.
  sim->malform_next(1);
  auto cut = io.run(basic.plants());
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().kind, ErrorKind::Protocol);
  EXPECT_NE(cut.error().message.find("Solar-Log plants"), std::string::npos);
  sim->fail_next(1);
  auto down = io.run(basic.plants());
  ASSERT_FALSE(down);
  EXPECT_TRUE(down.error().transient());
  // Wrong credentials are an Auth error from the token endpoint.
  net::Endpoint e{"127.0.0.1", sim->port(), false};
  solarlog::Client wrong(
      http, {e, e, "solarCompanyXYZ", "user-basic", "nope", net::kTestRequestTimeout}, clock);
  auto denied = io.run(wrong.plants());
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().kind, ErrorKind::Auth);
  // Tokens: renewed before they run out, and once after a revocation.
  ASSERT_TRUE(io.run(basic.plants()));
  auto first = basic.token_expires();
  clock.advance(seconds(280));
  ASSERT_TRUE(io.run(basic.plants()));
  EXPECT_NE(basic.token_expires(), first);
  sim->expire_all_tokens();
  EXPECT_TRUE(io.run(basic.plants()));
}
