#include "engine/backfill.hpp"

#include <gtest/gtest.h>

#include "core/metric.hpp"
#include "core/test_time.hpp"

using namespace sb;
using sb::test::at;
using namespace sb::engine;
using namespace std::chrono;

TEST(Backfill, AGapIsThreePollsOrThreeOfTheVendorsUpdatesAndAtLeastAMinute) {
  EXPECT_EQ(gap_threshold(seconds(10), Millis(0)), seconds(60));
  EXPECT_EQ(gap_threshold(seconds(60), Millis(0)), minutes(3));
  EXPECT_EQ(gap_threshold(seconds(60), minutes(5)), minutes(15));
  EXPECT_TRUE(tracked_metric(metric::kPvPower));
  EXPECT_TRUE(tracked_metric("pv.string.2.power"));
  EXPECT_FALSE(tracked_metric(metric::kDeviceOnline));
  EXPECT_FALSE(tracked_metric("vendor.kostal.yield_day"));
}

TEST(Backfill, UncoveredFindsTheHolesLongerThanTheToleranceBetweenTheEnds) {
  auto from = at("2026-06-15T08:00:00Z"), to = at("2026-06-15T09:00:00Z");
  EXPECT_EQ(uncovered({}, {from, to}, minutes(5)).size(), 1u);  // nothing inside: all of it
  std::vector<TimePoint> every5;
  for (int m = 5; m < 60; m += 5) every5.push_back(from + minutes(m));
  EXPECT_TRUE(uncovered(every5, {from, to}, minutes(6)).empty());
  // 08:20 .. 08:40 missing, given out of order, with a value outside the range ignored.
  std::vector<TimePoint> holey{from + minutes(50), from + minutes(10), from + minutes(20),
                               from + minutes(40), to + minutes(5)};
  auto holes = uncovered(holey, {from, to}, minutes(12));
  ASSERT_EQ(holes.size(), 1u);
  EXPECT_EQ(holes[0].from, from + minutes(20));
  EXPECT_EQ(holes[0].to, from + minutes(40));
  EXPECT_EQ(history_tolerance(metric::kPvPower, minutes(5), minutes(1)),
            Millis(minutes(12) + seconds(30)));
  EXPECT_EQ(history_tolerance(metric::kEnergyLoad, minutes(5), minutes(1)), minutes(90));
  EXPECT_EQ(history_tolerance(metric::kPvPower, Millis(0), minutes(1)),
            Millis(minutes(37) + seconds(30)));
}

TEST(Backfill, ACounterIsEstimatedAtEachWholeHourOnTheLineAndNotAcrossAReset) {
  auto t0 = at("2026-06-15T08:30:00Z"), t1 = at("2026-06-15T11:30:00Z");
  auto est = interpolate_counter("d", "energy.load", t0, 1000, t1, 4000);
  ASSERT_EQ(est.size(), 3u);
  EXPECT_EQ(est[0].time, at("2026-06-15T09:00:00Z"));
  EXPECT_DOUBLE_EQ(est[0].value, 1500);
  EXPECT_DOUBLE_EQ(est[2].value, 3500);
  EXPECT_EQ(est[1].quality, Quality::Estimated);
  EXPECT_TRUE(interpolate_counter("d", "energy.load", t0, 4000, t1, 10).empty());
  EXPECT_TRUE(interpolate_counter("d", "energy.load", t0, 1, t0 + minutes(20), 2).empty());
}
