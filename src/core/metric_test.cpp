#include "core/metric.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace sb;

TEST(MetricCatalogue, IdsAreUniqueAndWellFormed) {
  std::set<std::string_view> seen;
  for (const auto& m : metric_catalogue()) {
    EXPECT_TRUE(seen.insert(m.id).second) << "duplicate " << m.id;
    EXPECT_FALSE(m.description.empty()) << m.id;
  }
  EXPECT_GE(seen.size(), 27u);
}

TEST(MetricCatalogue, NamedConstantsAreInTheCatalogue) {
  for (auto id : {metric::kPvPower, metric::kGridPower, metric::kBatteryPower, metric::kBatterySoc,
                  metric::kEnergyPvYield, metric::kEnergyGridImport, metric::kEnergyGridExport,
                  metric::kEnergyBatteryCharge, metric::kEnergyBatteryDischarge,
                  metric::kEnergyLoad, metric::kDeviceState, metric::kDeviceOnline})
    EXPECT_TRUE(find_metric(id).has_value()) << id;
}

TEST(MetricCatalogue, UnitsAndSignRulesFollowTheArchitecture) {
  EXPECT_EQ(find_metric("grid.power")->sign, SignRule::ImportPositive);
  EXPECT_EQ(find_metric("battery.power")->sign, SignRule::DischargePositive);
  EXPECT_EQ(find_metric("pv.power")->sign, SignRule::NonNegative);
  EXPECT_EQ(find_metric("energy.grid_export")->unit, Unit::WattHour);
  EXPECT_EQ(find_metric("energy.grid_export")->kind, MetricKind::Counter);
  EXPECT_EQ(find_metric("battery.soc")->unit, Unit::Percent);
  EXPECT_EQ(unit_symbol(find_metric("battery.temperature")->unit), "°C");
}

TEST(MetricCatalogue, IndexedIdsMatchTheirPattern) {
  auto m = find_metric("pv.string.2.power");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->id, "pv.string.{n}.power");
  EXPECT_TRUE(find_metric("grid.phase.3.voltage"));
  EXPECT_FALSE(find_metric("pv.string.0.power"));  // indexes are 1-based
  EXPECT_FALSE(find_metric("pv.string.x.power"));
  EXPECT_EQ(indexed_metric(metric::kPvStringCurrent, 4), "pv.string.4.current");
}

TEST(MetricCatalogue, VendorIdsAreKnownButNotCanonical) {
  EXPECT_TRUE(is_vendor_metric("vendor.sonnen.RSOC"));
  EXPECT_FALSE(find_metric("vendor.sonnen.RSOC"));
  EXPECT_TRUE(is_known_metric("vendor.foxess.invTemperation"));
  EXPECT_FALSE(is_vendor_metric("vendor.sonnen"));
  EXPECT_FALSE(is_vendor_metric("vendor..x"));
  EXPECT_FALSE(is_known_metric("battery.sco"));
}
