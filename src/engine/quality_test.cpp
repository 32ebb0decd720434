#include "engine/quality.hpp"

#include <gtest/gtest.h>

#include <limits>

#include "core/metric.hpp"
#include "core/solar.hpp"
#include "core/test_time.hpp"

using namespace sb;
using sb::test::at;
using namespace sb::engine;
using namespace std::chrono;

namespace {

struct TwoDevices {
  std::unique_ptr<store::Store> store = std::move(*store::open_sqlite(":memory:"));
  std::vector<DeviceInfo> devices{{.id = "inv:1", .site = "home"},
                                  {.id = "meter:1", .site = "home"}};
  TimePoint from = at("2026-06-15T10:00:00Z"), to = at("2026-06-15T11:00:00Z");

  // Counters at both ends (values a few minutes before each end, as polls leave them).
  void counters(const std::string& device, std::string_view metric, double start, double end) {
    ASSERT_TRUE(store->write_samples({{device, std::string(metric), from - minutes(2), start},
                                      {device, std::string(metric), to - minutes(1), end}}));
  }
  EnergyBalance check() {
    auto b = check_energy_balance(*store, devices, {from, to}, minutes(15));
    EXPECT_TRUE(b) << b.error().message;
    return b ? *b : EnergyBalance{};
  }
};

}  // namespace

TEST(EnergyBalance, SumsEachKindOverTheSitesDevicesAndPassesWhenItBalances) {
  TwoDevices s;
  s.counters("inv:1", metric::kEnergyPvYield, 10'000, 12'000);     // 2000 in
  s.counters("inv:1", metric::kEnergyBatteryCharge, 500, 900);     // 400 out
  s.counters("inv:1", metric::kEnergyBatteryDischarge, 300, 300);  // 0
  s.counters("meter:1", metric::kEnergyGridImport, 7'000, 7'100);  // 100 in
  s.counters("meter:1", metric::kEnergyGridExport, 4'000, 4'800);  // 800 out
  s.counters("meter:1", metric::kEnergyLoad, 20'000, 20'880);      // 880 out
  auto b = s.check();
  ASSERT_TRUE(b.checkable) << b.not_checkable;
  EXPECT_DOUBLE_EQ(b.in_wh(), 2100);
  EXPECT_DOUBLE_EQ(b.out_wh(), 2080);
  EXPECT_DOUBLE_EQ(b.residual_wh, 20);
  EXPECT_DOUBLE_EQ(b.tolerance_wh, 105);  // 5 % of 2100 is above the 100 Wh floor
  EXPECT_FALSE(b.flagged);
  EXPECT_EQ(describe(b),
            "pv 2000 + import 100 + discharge 0 = 2100 Wh in, load 880 + export 800 + charge 400 "
            "= 2080 Wh out: balanced by 20 Wh (tolerance 105 Wh)");
}

TEST(EnergyBalance, AMissingLoadOrAWrongCounterIsFlagged) {
  TwoDevices s;
  s.counters("inv:1", metric::kEnergyPvYield, 10'000, 13'000);     // 3000 in
  s.counters("meter:1", metric::kEnergyGridImport, 7'000, 7'000);  // 0
  s.counters("meter:1", metric::kEnergyGridExport, 4'000, 4'500);  // 500 out
  s.counters("meter:1", metric::kEnergyLoad, 20'000, 21'000);      // 1000 out: 1500 unaccounted
  auto b = s.check();
  ASSERT_TRUE(b.checkable);
  EXPECT_TRUE(b.flagged);
  EXPECT_DOUBLE_EQ(b.residual_wh, 1500);
  EXPECT_NE(describe(b).find(": off by 1500 Wh (tolerance 150 Wh)"), std::string::npos)
      << describe(b);
}

TEST(EnergyBalance, IsNotJudgedWithoutLoadAndGridCountersOrWithoutValuesNearBothEnds) {
  TwoDevices s;
  s.counters("inv:1", metric::kEnergyPvYield, 10'000, 13'000);
  auto b = s.check();
  EXPECT_FALSE(b.checkable);
  EXPECT_FALSE(b.flagged);
  EXPECT_EQ(b.not_checkable, "no device of the site counts energy.grid_import");
  s.counters("meter:1", metric::kEnergyGridImport, 7'000, 7'000);
  s.counters("meter:1", metric::kEnergyGridExport, 4'000, 4'500);
  // The load counter's last value before the end is 40 minutes old: an outage, not a verdict.
  ASSERT_TRUE(s.store->write_samples(
      {{"meter:1", std::string(metric::kEnergyLoad), s.from - minutes(1), 20'000},
       {"meter:1", std::string(metric::kEnergyLoad), s.to - minutes(40), 20'500}}));
  b = s.check();
  EXPECT_FALSE(b.checkable);
  EXPECT_EQ(b.not_checkable, "meter:1 has no energy.load value near 2026-06-15T11:00:00Z");
}

TEST(Plausibility, RatingsWhereKnownPhysicsOtherwise) {
  Capabilities none;
  auto pv = *plausible_range("pv.power", none);
  EXPECT_EQ(pv.lo, -1000);
  EXPECT_EQ(pv.hi, 50e6);
  EXPECT_EQ(pv.basis, "physical limit");
  Capabilities rated;
  rated.pv_rated_w = 10'000;
  rated.commands = {{CommandType::BatteryPower, -4600, 4600, {}, 0}};
  EXPECT_EQ(plausible_range("pv.string.2.power", rated)->hi, 31'000);
  auto bat = *plausible_range("battery.power", rated);
  EXPECT_EQ(bat.lo, -14'800);
  EXPECT_EQ(bat.hi, 14'800);
  EXPECT_EQ(bat.basis, "three times the device's 4600 W rating");
  EXPECT_EQ(plausible_range("grid.power", rated)->lo, -50e6);  // a grid is not the device's
  EXPECT_EQ(plausible_range("battery.soc", none)->hi, 100);
  EXPECT_FALSE(plausible_range("vendor.sonnen.RSOC", none));

  std::vector<Sample> s = {{"d", "battery.soc", from_ms(0), 250},
                           {"d", "battery.soc", from_ms(1), 99.5},
                           {"d", "battery.current", from_ms(0), 4.76e9},
                           {"d", "vendor.x.y", from_ms(0), std::numeric_limits<double>::infinity()},
                           {"d", "energy.pv_yield", from_ms(0), -5},
                           {"d", "battery.power", from_ms(0), -14'000}};
  auto bad = take_implausible(s, rated);
  ASSERT_EQ(bad.size(), 4u);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].value, 99.5);
  EXPECT_EQ(s[1].value, -14'000);
  EXPECT_EQ(describe("d", bad[0]),
            "d reported battery.soc = 250 %, outside 0..100 % (physical limit): not stored");
  EXPECT_EQ(describe("d", bad[2]), "d reported vendor.x.y = inf, not a finite number: not stored");
}

// A day's PV held to the clear-sky yield of the site's arrays.
TEST(PvDay, ADayFarBelowTheClearSkyIsLowAndSaysSo) {
  auto store = std::move(*store::open_sqlite(":memory:"));
  Site site{"home", "Home", 52.52, 13.40, "Europe/Berlin", {{10'000, 180, 30}}, 0.2};
  std::vector<DeviceInfo> devices{{.id = "inv:1", .site = "home"},
                                  {.id = "inv:2", .site = "home"},
                                  {.id = "far:1", .site = "elsewhere"}};
  // 15 June in Berlin: from 22:00 UTC on the 14th to 22:00 UTC on the 15th.
  TimeRange day{at("2026-06-14T22:00:00Z"), at("2026-06-15T22:00:00Z")};
  auto counters = [&](const std::string& device, double start, double end) {
    ASSERT_TRUE(store->write_samples({{device, "energy.pv_yield", day.from - minutes(3), start},
                                      {device, "energy.pv_yield", day.to - minutes(2), end}}));
  };
  counters("inv:1", 1'000'000, 1'004'000);  // 4 kWh
  counters("inv:2", 50'000, 51'500);        // 1.5 kWh
  counters("far:1", 0, 900'000);            // another site's
  auto d = check_pv_day(*store, site, devices, day, minutes(15));
  ASSERT_TRUE(d) << d.error().message;
  ASSERT_TRUE(d->actual_wh);
  EXPECT_DOUBLE_EQ(*d->actual_wh, 5'500);
  EXPECT_DOUBLE_EQ(d->expected_wh,
                   clear_sky_pv_wh(site.pv, site.latitude, site.longitude, day.from, day.to));
  EXPECT_GT(d->expected_wh, 5'500 / 0.2);  // a clear June day gives far more than 27.5 kWh
  EXPECT_TRUE(d->low);
  auto text = describe(*d, site);
  EXPECT_TRUE(
      text.starts_with("PV lower than expected on 2026-06-15 (site home): 5.5 kWh against "))
      << text;
  EXPECT_NE(text.find("under a clear sky"), std::string::npos) << text;
  EXPECT_NE(text.find("below 20 %)"), std::string::npos) << text;
  // A share the site's owner set lower: the same day is not low.
  site.pv_low_share = 0.05;
  auto ok = check_pv_day(*store, site, devices, day, minutes(15));
  ASSERT_TRUE(ok);
  EXPECT_FALSE(ok->low);
  EXPECT_TRUE(describe(*ok, site).starts_with("PV on 2026-06-15 (site home): 5.5 kWh"))
      << describe(*ok, site);
  // A counter without a value near the day's end: nothing is judged.
  auto half = check_pv_day(*store, site, devices, {day.from, day.to + hours(3)}, minutes(15));
  ASSERT_TRUE(half);
  EXPECT_FALSE(half->actual_wh);
  EXPECT_FALSE(half->low);
}
