// A few days of the month run (month_run.hpp): a 20-inverter account under the quota planner
// with the documented limits, on a manual clock, over real HTTP, with a daily command and a
// two-hour outage. bench/foxess_month_bench runs all 30 days.
#include <gtest/gtest.h>

#include <iostream>

#include "vendors/foxess/month_run.hpp"

using namespace sb;

TEST(FoxessMonthRun, TwentyInvertersNeverHitTheLimitsAndKeepEveryDaysEnergy) {
  foxess::MonthRunOptions o;
  o.days = 2;
  o.outage_day = 1;
  auto r = foxess::run_month(o);
  std::cout << r.summary();
  EXPECT_TRUE(r.problems.empty());
  EXPECT_EQ(r.inverters, 20);
  // No call was refused for the limits; the planner never held a poll back either.
  EXPECT_EQ(r.refused_by_cloud, 0);
  EXPECT_EQ(r.refused_by_budget, 0);
  EXPECT_LE(r.busiest_day_calls, r.daily_quota);
  EXPECT_EQ(r.daily_quota, 1440 * 20);
  // Polls failed only while the cloud was down (2 h of 1-minute polls of 20 inverters).
  EXPECT_EQ(r.failed, r.failed_in_outage);
  EXPECT_EQ(r.failed_in_outage, 120 * 20);
  EXPECT_EQ(r.polls, (2 * 1440 + 11) * 20);
  // One batch a minute serves all twenty: data never older than the poll interval (a command's
  // or the backfill's paced calls can shift a batch), never old values as new while the cloud
  // is down: the gap between batches is the outage.
  EXPECT_EQ(r.refresh_median_s, 60);
  EXPECT_EQ(r.age_median_s, 0);
  EXPECT_LE(r.age_max_s, 60);
  EXPECT_GE(r.refresh_max_s, 2 * 3600);
  EXPECT_LE(r.refresh_max_s, 2 * 3600 + 120);
  EXPECT_EQ(r.commands, 2);
  EXPECT_EQ(r.verified, 2);
  EXPECT_EQ(r.backfill_rows, 20 * 24);
  EXPECT_EQ(r.backfill_rows_expected, 20 * 24);
  EXPECT_EQ(r.energy_days, 40);
  EXPECT_EQ(r.energy_days_expected, 40);
  EXPECT_LE(r.worst_energy_diff_kwh, 0.25);
}
