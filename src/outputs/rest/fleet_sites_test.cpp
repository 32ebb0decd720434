// The fleet page's rows: a site's worst state, its sums and alarms, the workers polling it;
// filters, sorts (sites without a value last) and pages; every bad parameter named.
#include "outputs/rest/fleet_sites.hpp"

#include <gtest/gtest.h>

#include "core/test_gateway.hpp"

using namespace sb;
using namespace sb::rest;

namespace {

using test::FakeGateway;

DeviceLive device(const std::string& site, const std::string& id, bool online,
                  std::vector<std::pair<std::string, double>> values) {
  DeviceLive d;
  d.device.id = id;
  d.device.site = site;
  d.device.connection = id.substr(0, id.find(':'));
  d.online = online;
  for (const auto& [m, v] : values) d.values.push_back({m, {}, v, Quality::Measured});
  return d;
}

ConnectionHealth connection(const std::string& site, const std::string& name,
                            const std::string& state, const std::string& worker) {
  ConnectionHealth h;
  h.name = name;
  h.site = site;
  h.state = state;
  h.worker = worker;
  return h;
}

FakeGateway fleet() {
  FakeGateway g;
  g.sites_ = {
      {"berlin", "Berlin roof"}, {"hamburg", "Hamburg"}, {"kiel", "Kiel"}, {"bonn", "Bonn"}};
  g.health_ = {connection("berlin", "b-1", "ok", "w1"), connection("berlin", "b-2", "ok", "w2"),
               connection("hamburg", "h-1", "failing", "w1"),
               connection("kiel", "k-1", "unheld", ""), connection("bonn", "o-1", "ok", "w2")};
  g.live_ = {device("berlin", "b-1:inv", true, {{"pv.power", 4200}, {"grid.power", -1000}}),
             device("berlin", "b-2:bat", true, {{"battery.power", -1500}, {"battery.soc", 61}}),
             device("hamburg", "h-1:inv", false, {}),
             device("bonn", "o-1:inv", true, {{"pv.power", 900}})};
  g.live_[3].stale = true;
  return g;
}

const SiteRow& row(const std::vector<SiteRow>& rows, const std::string& id) {
  return *std::find_if(rows.begin(), rows.end(), [&](const auto& r) { return r.site.id == id; });
}

}  // namespace

TEST(FleetSites, ASiteShowsItsWorstStateItsSumsAndWhoPollsIt) {
  auto g = fleet();
  auto rows = site_rows(g);
  ASSERT_EQ(rows.size(), 4u);
  const auto& berlin = row(rows, "berlin");
  EXPECT_EQ(berlin.state, "ok");
  EXPECT_EQ(berlin.connections, 2);
  EXPECT_EQ(berlin.devices, 2);
  EXPECT_EQ(berlin.pv_w, 4200);
  EXPECT_EQ(berlin.battery_w, -1500);
  EXPECT_EQ(berlin.grid_w, -1000);
  EXPECT_EQ(berlin.soc, 61);
  EXPECT_EQ(berlin.alarms, 0);
  EXPECT_EQ(berlin.workers, (std::vector<std::string>{"w1", "w2"}));
  const auto& hamburg = row(rows, "hamburg");
  EXPECT_EQ(hamburg.state, "failing");  // failing beats its offline device's "stale"
  EXPECT_EQ(hamburg.alarms, 2);
  EXPECT_EQ(hamburg.devices_offline, 1);
  EXPECT_FALSE(hamburg.pv_w);
  EXPECT_EQ(row(rows, "kiel").state, "unheld");
  EXPECT_TRUE(row(rows, "kiel").workers.empty());
  EXPECT_EQ(row(rows, "bonn").state, "stale");
  EXPECT_EQ(row(rows, "bonn").devices_stale, 1);
}

TEST(FleetSites, FiltersSortsAndPages) {
  auto g = fleet();
  auto q = fleet_query({{"sort", "pv"}, {"order", "desc"}});
  ASSERT_TRUE(q);
  auto page = fleet_page(site_rows(g), *q);
  EXPECT_EQ(page.total, 4u);
  ASSERT_EQ(page.rows.size(), 4u);
  // Sites without PV last, whatever the order.
  EXPECT_EQ(page.rows[0].site.id, "berlin");
  EXPECT_EQ(page.rows[1].site.id, "bonn");
  EXPECT_EQ(page.rows[2].site.id, "hamburg");
  EXPECT_EQ(page.rows[3].site.id, "kiel");
  EXPECT_EQ(page.states.at("ok"), 1u);
  EXPECT_EQ(page.states.at("failing"), 1u);

  auto second = fleet_page(site_rows(g), *fleet_query({{"offset", "1"}, {"limit", "2"}}));
  EXPECT_EQ(second.total, 4u);
  ASSERT_EQ(second.rows.size(), 2u);
  EXPECT_EQ(second.rows[0].site.id, "bonn");  // berlin, [bonn, hamburg], kiel
  EXPECT_EQ(second.rows[1].site.id, "hamburg");

  auto found = fleet_page(site_rows(g), *fleet_query({{"q", "ROOF"}}));
  ASSERT_EQ(found.total, 1u);
  EXPECT_EQ(found.rows[0].site.id, "berlin");
  auto worst = fleet_page(site_rows(g), *fleet_query({{"sort", "state"}, {"order", "desc"}}));
  EXPECT_EQ(worst.rows[0].site.id, "kiel");
  EXPECT_EQ(fleet_page(site_rows(g), *fleet_query({{"state", "stale"}})).rows.at(0).site.id,
            "bonn");
  EXPECT_TRUE(fleet_page(site_rows(g), *fleet_query({{"offset", "9"}})).rows.empty());
}

TEST(FleetSites, ABadParameterIsNamed) {
  EXPECT_EQ(fleet_query({{"sort", "colour"}}).error().message,
            "query parameter 'sort' = 'colour' must be site, name, state, pv, battery, soc or "
            "alarms");
  EXPECT_EQ(fleet_query({{"limit", "0"}}).error().message,
            "query parameter 'limit' = '0' must be a whole number from 1 to 500");
  EXPECT_EQ(fleet_query({{"order", "up"}}).error().message,
            "query parameter 'order' = 'up' must be asc or desc");
  EXPECT_EQ(fleet_query({{"state", "sad"}}).error().kind, ErrorKind::InvalidArgument);
}
