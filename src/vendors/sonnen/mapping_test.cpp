#include "vendors/sonnen/mapping.hpp"

#include <gtest/gtest.h>

#include <map>

#include "core/metric.hpp"

using namespace sb;
using namespace sb::sonnen;

namespace {
std::map<std::string, double> as_map(const std::vector<Sample>& v) {
  std::map<std::string, double> m;
  for (const auto& s : v) m[s.metric] = s.value;
  return m;
}
}  // namespace

TEST(SonnenMapping, RealFirmwareStatusMapsToTheCanonicalModel) {
  StatusV1 s;
  s.Consumption_W = 719;
  s.Fac = 50.004;
  s.IsSystemInstalled = 1;
  s.Pac_total_W = 687;
  s.Production_W = 0;
  s.RSOC = 84;
  s.USOC = 82;
  s.Uac = 227;
  s.Ubat = 210;
  s.GridFeedIn_W = -35;
  s.OperatingMode = "2";
  auto samples = map_status(s, "sonnen1:battery", from_ms(1000));
  auto m = as_map(samples);
  EXPECT_EQ(m.at("battery.power"), 687);  // + discharging, as the canonical rule
  EXPECT_EQ(m.at("battery.soc"), 82);     // USOC
  EXPECT_EQ(m.at("vendor.sonnen.RSOC"), 84);
  EXPECT_EQ(m.at("grid.power"), 35);  // GridFeedIn -35 = importing 35 W
  EXPECT_EQ(m.at("load.power"), 719);
  EXPECT_EQ(m.at("pv.power"), 0);
  EXPECT_NEAR(m.at("grid.frequency"), 50.004, 1e-9);
  EXPECT_EQ(m.at("ac.voltage"), 227);
  EXPECT_EQ(m.at("battery.voltage"), 210);
  EXPECT_NEAR(m.at("battery.current"), 687.0 / 210, 1e-9);
  EXPECT_EQ(m.at("device.state"), 2);
  EXPECT_EQ(m.at("device.online"), 1);
  EXPECT_EQ(m.at("vendor.sonnen.OperatingMode"), 2);
  for (const auto& x : samples) {
    EXPECT_TRUE(is_known_metric(x.metric)) << x.metric;
    EXPECT_EQ(x.device, "sonnen1:battery");
    EXPECT_EQ(to_ms(x.time), 1000);
  }
}

TEST(SonnenMapping, WithoutGridFieldTheGridClosesTheBalance) {
  StatusV1 s;
  s.Consumption_W = 500;
  s.Production_W = 3000;
  s.Pac_total_W = -2000;  // charging 2 kW
  s.USOC = 40;
  auto m = as_map(map_status(s, "d", from_ms(0)));
  EXPECT_EQ(m.at("grid.power"), -500);  // exporting 500 W
  EXPECT_EQ(m.at("pv.power") + m.at("grid.power") + m.at("battery.power"), m.at("load.power"));
}
