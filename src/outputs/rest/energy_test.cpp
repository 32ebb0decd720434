// Energy per local day and month from stored lifetime counters, in the site's zone.
#include "outputs/rest/energy.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/solar.hpp"
#include "core/test_time.hpp"

using namespace sb;
using sb::test::at;
using namespace std::chrono;

TEST(SiteEnergy, DaysAreLocalAndSummedOverTheSitesDevicesWithGapsSaidSo) {
  auto store = std::move(*store::open_sqlite(":memory:"));
  Site site{"home", "Home", 52.5, 13.4, "Europe/Berlin"};
  std::vector<DeviceInfo> devices{{"a:1", "home"}, {"b:1", "home"}, {"c:1", "elsewhere"}};
  // From 2026-06-01 00:00 Berlin (22:00 UTC the day before): a:1 yields 1 kWh an hour, b:1
  // 0.5 kWh an hour, c:1 (another site) 100 kWh an hour; every 10 minutes for three days.
  std::vector<Sample> samples;
  auto t0 = at("2026-05-31T22:00:00Z");
  for (int k = 1; k <= 3 * 24 * 6; ++k) {  // from 00:10: nothing at the first midnight
    auto t = t0 + minutes(10 * k);
    double h = k / 6.0;
    samples.push_back({"a:1", "energy.pv_yield", t, 5000 + 1000 * h});
    samples.push_back({"b:1", "energy.pv_yield", t, 200 + 500 * h});
    samples.push_back({"c:1", "energy.pv_yield", t, 100000 * h});
    samples.push_back({"a:1", "energy.grid_import", t, 10 * h});
  }
  ASSERT_TRUE(store->write_samples(samples));
  auto r = rest::site_energy(*store, site, devices, rest::EnergyPeriod::Day,
                             at("2026-06-01T10:00:00Z"), at("2026-06-03T10:00:00Z"));
  ASSERT_TRUE(r) << r.error().message;
  auto rows = (*r)["rows"].as_array();
  ASSERT_EQ(rows.size(), 3u) << boost::json::serialize(rows);  // 1, 2 and 3 June
  auto row = [&](std::size_t i) { return rows[i].as_object(); };
  EXPECT_EQ(row(0)["start"], "2026-05-31T22:00:00Z");
  EXPECT_EQ(row(0)["end"], "2026-06-01T22:00:00Z");
  // The first day has nothing at or before its midnight: counted from its first value (00:10),
  // and said to be incomplete.
  EXPECT_EQ(row(0)["complete"], false);
  EXPECT_DOUBLE_EQ(row(0)["energy.pv_yield"].to_number<double>(), 24 * 1500 - 250);
  EXPECT_EQ(row(1)["complete"], true);
  EXPECT_DOUBLE_EQ(row(1)["energy.pv_yield"].to_number<double>(), 24 * 1500);
  EXPECT_DOUBLE_EQ(row(1)["energy.grid_import"].to_number<double>(), 240);
  EXPECT_TRUE(row(1)["energy.grid_export"].is_null());
  // 3 June: the samples end at 22:00 UTC on the 3rd, exactly its end, which belongs to it.
  EXPECT_DOUBLE_EQ(row(2)["energy.pv_yield"].to_number<double>(), 24 * 1500);

  auto m = rest::site_energy(*store, site, devices, rest::EnergyPeriod::Month,
                             at("2026-06-02T00:00:00Z"), at("2026-06-02T00:00:00Z"));
  ASSERT_TRUE(m);
  auto months = (*m)["rows"].as_array();
  ASSERT_EQ(months.size(), 1u);
  EXPECT_EQ(months[0].as_object()["start"], "2026-05-31T22:00:00Z");
  EXPECT_EQ(months[0].as_object()["end"], "2026-06-30T22:00:00Z");
  // June so far: from the first value to the last, the month not over.
  EXPECT_DOUBLE_EQ(months[0].as_object()["energy.pv_yield"].to_number<double>(), 72 * 1500 - 250);
  EXPECT_EQ(months[0].as_object()["complete"], false);

  site.timezone = "Mars/Olympus";
  auto bad = rest::site_energy(*store, site, devices, rest::EnergyPeriod::Day,
                               at("2026-06-01T10:00:00Z"), at("2026-06-03T10:00:00Z"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "unknown time zone 'Mars/Olympus'");
  auto many =
      rest::period_boundaries("UTC", rest::EnergyPeriod::Day, at("2020-01-01"), at("2026-01-01"));
  ASSERT_FALSE(many);
  EXPECT_NE(many.error().message.find("over 400 periods"), std::string::npos);
  store->close();
}

// The days around both clock changes in Berlin have 23 and 25 hours: energy is cut at local
// midnight, so each of those days holds its own hours, no more and no fewer.
TEST(SiteEnergy, DaysAcrossTheClockChangesHaveTheirOwnHours) {
  auto store = std::move(*store::open_sqlite(":memory:"));
  Site site{"home", "Home", 52.5, 13.4, "Europe/Berlin"};
  std::vector<DeviceInfo> devices{{"a:1", "home"}};
  std::vector<Sample> samples;
  // 1 kWh every hour, from 27 to 30 March and from 23 to 27 October 2026 (UTC hours).
  for (auto [from, hours_n] :
       {std::pair{"2026-03-27T00:00:00Z", 96}, {"2026-10-23T00:00:00Z", 96}}) {
    for (int h = 0; h <= hours_n; ++h)
      samples.push_back({"a:1", "energy.load", at(from) + hours(h), 1000.0 * h});
  }
  ASSERT_TRUE(store->write_samples(samples));
  auto day = [&](const char* from, const char* to) {
    auto r = rest::site_energy(*store, site, devices, rest::EnergyPeriod::Day, at(from), at(to));
    EXPECT_TRUE(r);
    return r ? (*r)["rows"].as_array() : boost::json::array{};
  };
  auto spring = day("2026-03-29T12:00:00Z", "2026-03-29T12:00:00Z");
  ASSERT_EQ(spring.size(), 1u);
  EXPECT_EQ(spring[0].as_object()["start"], "2026-03-28T23:00:00Z");  // CET midnight
  EXPECT_EQ(spring[0].as_object()["end"], "2026-03-29T22:00:00Z");    // CEST midnight
  EXPECT_DOUBLE_EQ(spring[0].as_object()["energy.load"].to_number<double>(), 23'000);
  auto autumn = day("2026-10-25T12:00:00Z", "2026-10-25T12:00:00Z");
  ASSERT_EQ(autumn.size(), 1u);
  EXPECT_EQ(autumn[0].as_object()["start"], "2026-10-24T22:00:00Z");
  EXPECT_EQ(autumn[0].as_object()["end"], "2026-10-25T23:00:00Z");
  EXPECT_DOUBLE_EQ(autumn[0].as_object()["energy.load"].to_number<double>(), 25'000);
  store->close();
}

// A day's shares: self-sufficiency is the home's use not imported, self-consumption the PV not
// exported; a counter summed from estimates is named; years are the site's calendar years.
TEST(SiteEnergy, SharesEstimatesAndYears) {
  auto store = std::move(*store::open_sqlite(":memory:"));
  Site site{"home", "Home", 52.5, 13.4, "UTC"};
  std::vector<DeviceInfo> devices{{"inv:1", "home"}, {"bat:1", "home"}};
  std::vector<Sample> samples;
  // 2 June: PV 20 kWh, 5 kWh of it exported; the home uses 16 kWh, 4 kWh of it imported. The
  // battery (a device without counters) has an estimated discharge counter of 3 kWh.
  for (int h = 0; h <= 24; ++h) {
    auto t = at("2026-06-02T00:00:00Z") + hours(h);
    double f = h / 24.0;
    samples.push_back({"inv:1", "energy.pv_yield", t, 1000 + 20'000 * f});
    samples.push_back({"inv:1", "energy.grid_export", t, 5'000 * f});
    samples.push_back({"inv:1", "energy.load", t, 16'000 * f});
    samples.push_back({"inv:1", "energy.grid_import", t, 4'000 * f});
    Sample guessed{"bat:1", "energy.battery_discharge", t, 3'000 * f};
    guessed.quality = Quality::Estimated;
    samples.push_back(guessed);
  }
  ASSERT_TRUE(store->write_samples(samples));
  auto r = rest::site_energy(*store, site, devices, rest::EnergyPeriod::Day,
                             at("2026-06-02T12:00:00Z"), at("2026-06-02T12:00:00Z"));
  ASSERT_TRUE(r) << r.error().message;
  auto row = (*r)["rows"].as_array().at(0).as_object();
  EXPECT_DOUBLE_EQ(row["self_sufficiency"].to_number<double>(), 75);  // (16 - 4) / 16
  EXPECT_DOUBLE_EQ(row["self_consumption"].to_number<double>(), 75);  // (20 - 5) / 20
  EXPECT_DOUBLE_EQ(row["energy.battery_discharge"].to_number<double>(), 3'000);
  EXPECT_EQ(boost::json::serialize(row["estimated"]), R"(["energy.battery_discharge"])");
  EXPECT_TRUE(row["pv_expected"].is_null());  // no arrays configured: nothing to expect
  // With the site's arrays: the clear-sky yield of the day beside the actual.
  site.pv = {{10'000, 180, 30}};
  auto with_pv = rest::site_energy(*store, site, devices, rest::EnergyPeriod::Day,
                                   at("2026-06-02T12:00:00Z"), at("2026-06-02T12:00:00Z"));
  ASSERT_TRUE(with_pv);
  auto expected = (*with_pv)["rows"].as_array().at(0).as_object()["pv_expected"];
  EXPECT_DOUBLE_EQ(
      expected.to_number<double>(),
      std::round(clear_sky_pv_wh(site.pv, site.latitude, site.longitude, at("2026-06-02T00:00:00Z"),
                                 at("2026-06-03T00:00:00Z"))));
  // A day without the numbers a share needs: null, not 0 or 100.
  auto empty = rest::site_energy(*store, site, devices, rest::EnergyPeriod::Day,
                                 at("2026-06-10T12:00:00Z"), at("2026-06-10T12:00:00Z"));
  ASSERT_TRUE(empty);
  auto none = (*empty)["rows"].as_array().at(0).as_object();
  EXPECT_TRUE(none["self_sufficiency"].is_null());
  EXPECT_TRUE(none["self_consumption"].is_null());

  auto y = rest::site_energy(*store, site, devices, rest::EnergyPeriod::Year,
                             at("2025-03-01T00:00:00Z"), at("2026-07-01T00:00:00Z"));
  ASSERT_TRUE(y) << y.error().message;
  EXPECT_EQ((*y)["period"], "year");
  auto years = (*y)["rows"].as_array();
  ASSERT_EQ(years.size(), 2u);
  EXPECT_EQ(years[0].as_object()["start"], "2025-01-01T00:00:00Z");
  EXPECT_TRUE(years[0].as_object()["energy.pv_yield"].is_null());
  EXPECT_EQ(years[1].as_object()["end"], "2027-01-01T00:00:00Z");
  EXPECT_DOUBLE_EQ(years[1].as_object()["energy.pv_yield"].to_number<double>(), 20'000);
  store->close();
}

// A cloud that reports every 20 minutes, not on the hour: the day's energy is cut at midnight
// between the readings on either side of it, not at the last reading before it.
TEST(SiteEnergy, ADayIsCutAtMidnightBetweenTheReadingsAroundIt) {
  auto store = std::move(*store::open_sqlite(":memory:"));
  Site site{"home", "Home", 52.5, 13.4, "Europe/Berlin"};
  std::vector<DeviceInfo> devices{{"a:1", "home"}};
  // Berlin midnights: 2026-06-01T22:00Z and 2026-06-02T22:00Z.
  ASSERT_TRUE(
      store->write_samples({{"a:1", "energy.grid_import", at("2026-06-01T21:50:00Z"), 1000},
                            {"a:1", "energy.grid_import", at("2026-06-01T22:10:00Z"), 1400},
                            {"a:1", "energy.grid_import", at("2026-06-02T10:00:00Z"), 3000},
                            {"a:1", "energy.grid_import", at("2026-06-02T21:50:00Z"), 5000},
                            {"a:1", "energy.grid_import", at("2026-06-02T22:10:00Z"), 5000},
                            // three hours apart: no reading to cut between
                            {"a:1", "energy.grid_import", at("2026-06-03T20:00:00Z"), 6000},
                            {"a:1", "energy.grid_import", at("2026-06-03T23:00:00Z"), 9000}}));
  auto r = rest::site_energy(*store, site, devices, rest::EnergyPeriod::Day,
                             at("2026-06-02T10:00:00Z"), at("2026-06-03T10:00:00Z"));
  ASSERT_TRUE(r) << r.error().message;
  auto rows = (*r)["rows"].as_array();
  ASSERT_EQ(rows.size(), 2u) << boost::json::serialize(rows);
  EXPECT_EQ(rows[0].as_object()["start"], "2026-06-01T22:00:00Z");
  EXPECT_DOUBLE_EQ(rows[0].as_object()["energy.grid_import"].to_number<double>(), 5000 - 1200);
  EXPECT_EQ(rows[0].as_object()["complete"], true);
  // The next day ends at 22:00Z between readings three hours apart: the last one before it.
  EXPECT_DOUBLE_EQ(rows[1].as_object()["energy.grid_import"].to_number<double>(), 6000 - 5000);
  store->close();
}
