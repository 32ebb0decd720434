#include "core/metric.hpp"

#include <gtest/gtest.h>

#include <cmath>
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

// What `sunbridge read` prints: rounded as the unit has it, never "-0" (issue 23: "-0.00 W",
// "device.state 2.00").
TEST(MetricCatalogue, NumbersForPeopleAreRoundedByUnitWithoutNegativeZero) {
  EXPECT_EQ(display_number(-1201.5661288820804, Unit::Watt), "-1202");
  EXPECT_EQ(display_number(-0.004, Unit::Watt), "0");
  EXPECT_EQ(display_number(-0.0, Unit::Watt), "0");
  EXPECT_EQ(display_number(2, Unit::State), "2");
  EXPECT_EQ(display_number(1, Unit::Boolean), "1");
  EXPECT_EQ(display_number(55.04, Unit::Percent), "55.0");
  EXPECT_EQ(display_number(-0.04, Unit::Percent), "0.0");
  EXPECT_EQ(display_number(50.004, Unit::Hertz), "50.00");
  EXPECT_EQ(display_number(-3.456, Unit::Ampere), "-3.46");
  EXPECT_EQ(display_number(230.06, Unit::Volt), "230.1");
  EXPECT_EQ(display_number(5'400'000'123.4, Unit::WattHour), "5400000123");
  EXPECT_EQ(display_number(std::nan(""), Unit::Watt), "nan");
  EXPECT_EQ(display_number(-INFINITY, Unit::Watt), "-inf");
  EXPECT_EQ(display_decimals(Unit::Celsius), 1);
  EXPECT_EQ(display_number(50.0, Unit::None), "50");
  EXPECT_EQ(display_number(1.25, Unit::None), "1.25");
  EXPECT_EQ(display_number(0.104, Unit::None), "0.1");
  EXPECT_EQ(display_number(-0.001, Unit::None), "0");
  EXPECT_EQ(display_number(100, Unit::None), "100");
}

TEST(MetricCatalogue, AnInternedIdFindsTheSameRowTwice) {
  const auto* pv = metric_def(Name("pv.power"));
  ASSERT_NE(pv, nullptr);
  EXPECT_EQ(pv->id, "pv.power");
  EXPECT_EQ(metric_def(Name("pv.power")), pv);  // remembered: the same row
  const auto* string2 = metric_def(Name("pv.string.2.power"));
  ASSERT_NE(string2, nullptr);
  EXPECT_EQ(string2->id, find_metric("pv.string.2.power")->id);
  EXPECT_EQ(metric_def(Name("pv.string.0.power")), nullptr);  // indexes are 1-based
  EXPECT_EQ(metric_def(Name("vendor.kostal.dc_power")), nullptr);
  EXPECT_EQ(metric_def(Name("no.such.metric")), nullptr);
  EXPECT_EQ(metric_def(Name()), nullptr);
}
