#include "store/rollup_plan.hpp"

#include <gtest/gtest.h>

using namespace sb::store;
using namespace std::chrono;

namespace {
constexpr std::int64_t H = 3'600'000;
const RollupPlan::Time t0{};
}  // namespace

TEST(RollupPlan, ANewHourIsDueAtOnceThenTheCurrentHourOnceAMinute) {
  RollupPlan plan;
  plan.touched({{1, 10 * H}}, t0);
  EXPECT_EQ(plan.take_due(t0, false), (std::vector<SeriesHour>{{1, 10 * H}}));
  EXPECT_EQ(plan.waiting(), 0u);

  // Written again 10 s later: waits until a minute after its roll-up.
  plan.touched({{1, 10 * H}}, t0 + 10s);
  EXPECT_TRUE(plan.take_due(t0 + 10s, false).empty());
  EXPECT_TRUE(plan.take_due(t0 + 59s, false).empty());
  EXPECT_EQ(plan.waiting(), 1u);
  EXPECT_EQ(plan.take_due(t0 + 60s, false), (std::vector<SeriesHour>{{1, 10 * H}}));
}

TEST(RollupPlan, TheNextHourMakesTheWaitingOneDueAtOnce) {
  RollupPlan plan;
  plan.touched({{1, 10 * H}}, t0);
  (void)plan.take_due(t0, false);
  plan.touched({{1, 10 * H}}, t0 + 5s);  // waits for t0 + 60 s
  plan.touched({{1, 11 * H}}, t0 + 6s);  // the series moved on: hour 10 is over
  EXPECT_EQ(plan.take_due(t0 + 6s, false), (std::vector<SeriesHour>{{1, 10 * H}, {1, 11 * H}}));
  // A late sample of the hour that is over is rolled up at once, not a minute later.
  plan.touched({{1, 10 * H}}, t0 + 7s);
  EXPECT_EQ(plan.take_due(t0 + 7s, false), (std::vector<SeriesHour>{{1, 10 * H}}));
}

TEST(RollupPlan, OnlyDueHoursAreTakenAndAllTakesEveryOne) {
  RollupPlan plan;
  std::vector<SeriesHour> hours;
  for (std::int64_t s = 1; s <= 1000; ++s) hours.push_back({s, 10 * H});
  plan.touched(hours, t0);
  EXPECT_EQ(plan.take_due(t0, false).size(), 1000u);
  // Series 7 is written again; the other 999 are not: one hour waits, nothing else is due.
  plan.touched({{7, 10 * H}}, t0 + 1s);
  EXPECT_TRUE(plan.take_due(t0 + 2s, false).empty());
  EXPECT_EQ(plan.take_due(t0 + 2s, true), (std::vector<SeriesHour>{{7, 10 * H}}));
  EXPECT_EQ(plan.waiting(), 0u);
}

TEST(RollupPlan, HoursOfARolledBackTransactionAreDueAgain) {
  RollupPlan plan;
  plan.touched({{1, 10 * H}, {2, 10 * H}}, t0);
  auto taken = plan.take_due(t0, false);
  ASSERT_EQ(taken.size(), 2u);
  plan.retry(taken, t0 + 1s);
  EXPECT_EQ(plan.take_due(t0 + 1s, false), taken);
}

TEST(RollupPlan, HoursOfSortedRowsEachOnce) {
  struct Row {
    std::int64_t series, t;
  };
  std::vector<Row> rows{{1, 0}, {1, 10}, {1, H + 1}, {2, -1}, {2, 5}};
  EXPECT_EQ(hours_of(rows), (std::vector<SeriesHour>{{1, 0}, {1, H}, {2, -H}, {2, 0}}));
}
