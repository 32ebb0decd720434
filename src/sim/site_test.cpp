#include "sim/site.hpp"

#include <gtest/gtest.h>

#include <cmath>

using namespace sb;
using namespace sb::sim;
using namespace std::chrono;

namespace {

TimePoint utc(int y, unsigned m, unsigned d, int h = 0, int mi = 0) {
  return time_point_cast<Millis>(sys_days(year_month_day(year(y), month(m), day(d))) + hours(h) +
                                 minutes(mi));
}

double balance_error(const Counters& c) {
  return (c.pv_wh + c.grid_import_wh + c.battery_discharge_wh) -
         (c.load_wh + c.grid_export_wh + c.battery_charge_wh);
}

}  // namespace

TEST(SunPosition, NoonInBerlinAtTheSolsticesAndNightAtMidnight) {
  // Berlin 52.52 N: max elevation ~ 90 - 52.5 + 23.44 = 60.9° in June, ~14.0° in December.
  double best_june = -90, best_dec = -90;
  for (int m = 0; m < 24 * 60; m += 5) {
    best_june = std::max(best_june,
                         sun_position(52.52, 13.40, utc(2026, 6, 21) + minutes(m)).elevation_deg);
    best_dec = std::max(best_dec,
                        sun_position(52.52, 13.40, utc(2026, 12, 21) + minutes(m)).elevation_deg);
  }
  EXPECT_NEAR(best_june, 60.9, 0.5);
  EXPECT_NEAR(best_dec, 14.1, 0.5);
  EXPECT_LT(sun_position(52.52, 13.40, utc(2026, 6, 21, 23)).elevation_deg, 0);
  // Around solar noon (11:06 UTC for 13.4 E) the sun stands in the south.
  EXPECT_NEAR(sun_position(52.52, 13.40, utc(2026, 3, 20, 11, 6)).azimuth_deg, 180, 3);
}

TEST(Site, CountersBalanceExactlyOverADayAndOnlyGrow) {
  SiteConfig cfg;
  sim::Site site(cfg, utc(2026, 6, 21));
  Counters prev = site.counters();
  EXPECT_NEAR(balance_error(prev), 0, 1e-6);
  for (int step = 0; step < 24 * 12; ++step) {
    site.advance_to(utc(2026, 6, 21) + minutes(5 * (step + 1)));
    const auto& c = site.counters();
    EXPECT_NEAR(balance_error(c), 0, 1e-6 * c.load_wh);
    EXPECT_GE(c.pv_wh, prev.pv_wh);
    EXPECT_GE(c.grid_import_wh, prev.grid_import_wh);
    EXPECT_GE(c.grid_export_wh, prev.grid_export_wh);
    EXPECT_GE(c.battery_charge_wh, prev.battery_charge_wh);
    EXPECT_GE(c.battery_discharge_wh, prev.battery_discharge_wh);
    EXPECT_GE(c.load_wh, prev.load_wh);
    // The house's sources add up to its load; grid-charged energy is part of the import.
    EXPECT_NEAR(c.home_from_pv_wh + c.home_from_battery_wh + c.home_from_grid_wh, c.load_wh,
                1e-6 * c.load_wh);
    EXPECT_NEAR(c.home_from_grid_wh + c.charge_from_grid_wh, c.grid_import_wh,
                1e-6 * c.grid_import_wh);
    EXPECT_GE(c.home_from_pv_wh, prev.home_from_pv_wh);
    prev = c;
    const auto& s = site.state();
    EXPECT_NEAR(s.pv_w + s.grid_w + s.battery_w, s.load_w, 1e-6);  // instantaneous balance
  }
  double pv_day = site.counters().pv_wh - cfg.initial_counters.pv_wh;
  // 8 kWp in Berlin on the longest day: tens of kWh, not hundreds, not zero.
  EXPECT_GT(pv_day, 15'000);
  EXPECT_LT(pv_day, 70'000);
}

TEST(Site, NoPvAtNightAndStringsCarryVoltageByDay) {
  sim::Site site(SiteConfig{}, utc(2026, 6, 21, 0));
  EXPECT_EQ(site.state().pv_w, 0);
  EXPECT_EQ(site.state().strings.at(0).voltage_v, 0);
  site.advance_to(utc(2026, 6, 21, 11));
  const auto& s = site.state();
  EXPECT_GT(s.pv_w, 500);
  ASSERT_EQ(s.strings.size(), 2u);
  EXPECT_GT(s.strings[0].voltage_v, 300);
  EXPECT_NEAR(s.strings[0].voltage_v * s.strings[0].current_a, s.strings[0].power_w, 1e-6);
  EXPECT_NEAR(s.strings[0].power_w + s.strings[1].power_w, s.pv_w, 1e-6);
}

TEST(Site, SameSeedSameSiteWhateverTheStepping) {
  SiteConfig cfg;
  cfg.seed = 99;
  sim::Site a(cfg, utc(2026, 5, 1)), b(cfg, utc(2026, 5, 1));
  a.advance_to(utc(2026, 5, 2));
  for (int s = 1; s <= 24 * 3600; s += 37) b.advance_to(utc(2026, 5, 1) + seconds(s));
  b.advance_to(utc(2026, 5, 2));
  EXPECT_NEAR(a.counters().pv_wh, b.counters().pv_wh, 1e-3);
  EXPECT_NEAR(a.counters().grid_import_wh, b.counters().grid_import_wh, 1e-3);
  EXPECT_NEAR(a.state().soc_percent, b.state().soc_percent, 1e-6);
  cfg.seed = 100;
  sim::Site c(cfg, utc(2026, 5, 1));
  c.advance_to(utc(2026, 5, 2));
  EXPECT_NE(a.counters().load_wh, c.counters().load_wh);
}

TEST(Site, SetpointDrivesTheBatteryUntilReleasedAndSocMoves) {
  SiteConfig cfg;
  sim::Site site(cfg, utc(2026, 1, 10, 2));  // winter night: no PV
  double soc0 = site.state().soc_percent;
  site.set_battery_setpoint(-2000);  // charge at 2 kW
  EXPECT_DOUBLE_EQ(site.state().battery_w, -2000);
  site.advance_to(utc(2026, 1, 10, 3));
  EXPECT_DOUBLE_EQ(site.state().battery_w, -2000);
  // 2 kWh in at 96 % into 10 kWh: +19.2 points.
  EXPECT_NEAR(site.state().soc_percent - soc0, 19.2, 0.01);
  EXPECT_GT(site.state().grid_w, 2000);  // the grid pays for it
  site.set_battery_setpoint(99'000);     // clamped to the battery's limit
  EXPECT_DOUBLE_EQ(site.state().battery_w, cfg.battery.max_discharge_w);
  site.set_battery_setpoint(std::nullopt);
  EXPECT_EQ(site.battery_mode(), BatteryMode::SelfConsumption);
  EXPECT_NEAR(site.state().battery_w, site.state().load_w, 1e-6);  // covers the house at night
}

TEST(Site, SocStaysWithinBoundsAndReserveHolds) {
  SiteConfig cfg;
  cfg.battery.initial_soc_percent = 20;
  sim::Site site(cfg, utc(2026, 1, 10, 0));
  site.set_reserve_soc(15);
  site.advance_to(utc(2026, 1, 10, 6));  // the house drains the battery overnight
  EXPECT_NEAR(site.state().soc_percent, 15, 0.2);
  EXPECT_EQ(site.state().battery_w, 0);
  site.set_battery_setpoint(4000);  // a setpoint goes below the reserve, not below the floor
  site.advance_to(utc(2026, 1, 10, 9));
  EXPECT_NEAR(site.state().soc_percent, cfg.battery.min_soc_percent, 1e-6);
  EXPECT_EQ(site.state().battery_w, 0);
  EXPECT_NEAR(balance_error(site.counters()), 0, 1e-3);
}

TEST(Site, LocalTimeFollowsTheZoneAcrossDst) {
  sim::Site site(SiteConfig{}, utc(2026, 3, 29, 0));
  EXPECT_EQ(site.local_time_string(utc(2026, 3, 29, 0, 30)), "2026-03-29 01:30:00");
  EXPECT_EQ(site.local_time_string(utc(2026, 3, 29, 1, 30)), "2026-03-29 03:30:00");
}

TEST(Site, BadConfigNamesTheField) {
  SiteConfig cfg;
  cfg.timezone = "Mars/Olympus";
  auto r = validate(cfg);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "site: unknown time zone 'Mars/Olympus'");
  cfg = {};
  cfg.battery.initial_soc_percent = 1;
  EXPECT_NE(validate(cfg).error().message.find("initial_soc_percent"), std::string::npos);
  EXPECT_THROW(sim::Site(cfg, utc(2026, 1, 1)), std::invalid_argument);
}

TEST(Site, WeeklyPlanBlocksChargingAndDischargingPerQuarterHour) {
  SiteConfig c;
  c.timezone = "UTC";
  c.cloudiness = 0;
  // Wednesday 2026-06-17 12:00 UTC: strong sun, the battery would charge.
  auto noon = utc(2026, 6, 17, 12);
  sim::Site s(c, noon);
  s.advance_to(noon + std::chrono::seconds(10));
  ASSERT_LT(s.state().battery_w, -100);
  WeeklyPlan plan{};
  plan[2][48] = SlotRule::NoCharge;  // Wednesday 12:00-12:15
  s.set_weekly_plan(plan);
  EXPECT_EQ(s.slot_rule_at(noon + std::chrono::minutes(14)), SlotRule::NoCharge);
  EXPECT_EQ(s.slot_rule_at(noon + std::chrono::minutes(15)), SlotRule::Free);
  EXPECT_EQ(s.slot_rule_at(noon + std::chrono::hours(24)), SlotRule::Free);  // Thursday
  EXPECT_DOUBLE_EQ(s.state().battery_w, 0);
  s.advance_to(noon + std::chrono::minutes(16));
  EXPECT_LT(s.state().battery_w, -100);  // the slot has passed
}

TEST(Site, DischargeThresholdAndReserveHoldTheBattery) {
  SiteConfig c;
  c.timezone = "UTC";
  auto night = utc(2026, 6, 17, 1);
  sim::Site s(c, night);
  s.advance_to(night + std::chrono::seconds(5));
  ASSERT_GT(s.state().battery_w, 0);  // covering the night load
  s.set_discharge_threshold(50'000);
  EXPECT_DOUBLE_EQ(s.state().battery_w, 0);
  s.set_discharge_threshold(0);
  EXPECT_GT(s.state().battery_w, 0);
  s.set_reserve_soc(90);
  EXPECT_DOUBLE_EQ(s.state().battery_w, 0);
}

TEST(Site, DayPlanSegmentsChargeFromTheGridDischargeAndHoldInLocalTime) {
  SiteConfig c;
  c.timezone = "Europe/Berlin";
  auto night = utc(2026, 6, 17, 0);  // 02:00 in Berlin (CEST)
  sim::Site s(c, night);
  s.advance_to(night + seconds(5));
  ASSERT_GT(s.state().battery_w, 0);  // self-consumption covers the night load
  // 02:00-03:00 local: charge at 3 kW up to 60 %; 03:00-04:00: discharge 2.5 kW down to 40 %.
  s.set_day_plan({{120, 180, SegmentMode::Charge, 3000, 0, 60},
                  {180, 240, SegmentMode::Discharge, 2500, 40, 100}});
  ASSERT_NE(s.segment_at(s.now()), nullptr);
  EXPECT_EQ(s.segment_at(s.now())->mode, SegmentMode::Charge);
  EXPECT_DOUBLE_EQ(s.state().battery_w, -3000);
  EXPECT_NEAR(s.state().grid_w, s.state().load_w + 3000, 1e-6);  // all of it from the grid
  auto before = s.counters();
  s.advance_to(night + seconds(5) + minutes(10));
  EXPECT_NEAR(s.counters().charge_from_grid_wh - before.charge_from_grid_wh, 500, 2);
  EXPECT_NEAR(s.state().soc_percent, 50 + 500 * 0.96 / 100, 0.1);
  s.advance_to(night + minutes(59));
  EXPECT_NEAR(s.state().soc_percent, 60, 0.2);  // stops at the segment's ceiling
  EXPECT_DOUBLE_EQ(s.state().battery_w, 0);
  s.advance_to(night + minutes(61));
  EXPECT_DOUBLE_EQ(s.state().battery_w, 2500);  // the discharge segment exports the rest
  EXPECT_NEAR(s.state().grid_w, s.state().load_w - 2500, 1e-6);
  s.advance_to(night + minutes(120) + seconds(1));
  EXPECT_EQ(s.segment_at(s.now()), nullptr);  // 04:00: back to self-consumption
  EXPECT_NEAR(s.state().battery_w, std::min(s.state().load_w, c.battery.max_discharge_w), 1e-6);
  s.set_day_plan({{0, 1440, SegmentMode::NoDischarge}});
  EXPECT_DOUBLE_EQ(s.state().battery_w, 0);
  EXPECT_NEAR(balance_error(s.counters()), 0, 1e-3);
  EXPECT_THROW(s.set_day_plan({{300, 200, SegmentMode::SelfUse}}), std::invalid_argument);
}

TEST(Site, ExportLimitCurtailsPvAndDischargeAndTheBalanceHolds) {
  SiteConfig c;
  c.timezone = "UTC";
  c.cloudiness = 0;
  c.battery.initial_soc_percent = 100;  // full: every surplus watt would be exported
  auto noon = utc(2026, 6, 17, 12);
  sim::Site s(c, noon);
  s.advance_to(noon + seconds(10));
  ASSERT_LT(s.state().grid_w, -3000);
  s.set_export_limit(1000);
  EXPECT_NEAR(s.state().grid_w, -1000, 1e-6);
  EXPECT_NEAR(s.state().pv_w, s.state().load_w + 1000, 1e-6);
  double strings = 0;
  for (const auto& st : s.state().strings) strings += st.power_w;
  EXPECT_NEAR(strings, s.state().pv_w, 1e-6);
  auto before = s.counters();
  s.advance_to(noon + seconds(10) + minutes(30));
  EXPECT_NEAR(s.counters().grid_export_wh - before.grid_export_wh, 500, 1);
  EXPECT_NEAR(balance_error(s.counters()), 0, 1e-3);
  // A forced discharge at night exports no more than the limit either.
  s.set_export_limit(0);
  s.set_day_plan({{0, 1440, SegmentMode::Discharge, 4000}});
  EXPECT_NEAR(s.state().grid_w, 0, 1e-6);
  s.set_export_limit(std::nullopt);
  EXPECT_LT(s.state().grid_w, -1000);
}

TEST(Site, PeakShavingHoldsImportAtTheLimitWhileTheBatteryAllows) {
  SiteConfig c;
  c.timezone = "UTC";
  auto night = utc(2026, 6, 17, 1);
  sim::Site s(c, night);
  // A forced grid charge of 4 kW on top of the house would import over 4 kW.
  s.set_day_plan({{0, 1440, SegmentMode::Charge, 4000, 0, 100}});
  ASSERT_GT(s.state().grid_w, 4000);
  s.set_peak_shaving(2500, 20);
  EXPECT_NEAR(s.state().grid_w, 2500, 1e-6);  // charging gave way
  // Backup mode does not discharge, but peak shaving does when the house needs more.
  s.set_day_plan({{0, 1440, SegmentMode::NoDischarge}});
  s.set_peak_shaving(0, 20);
  EXPECT_NEAR(s.state().battery_w, s.state().load_w, 1e-6);
  EXPECT_NEAR(s.state().grid_w, 0, 1e-6);
  s.set_peak_shaving(0, 60);  // SoC 50 % is below the peak-shaving floor: no help
  EXPECT_DOUBLE_EQ(s.state().battery_w, 0);
  s.set_peak_shaving(std::nullopt, 0);
  EXPECT_DOUBLE_EQ(s.state().battery_w, 0);
}
