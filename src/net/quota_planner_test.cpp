#include "net/quota_planner.hpp"

#include <gtest/gtest.h>

#include "core/test_time.hpp"

using namespace sb;
using sb::test::at;
using namespace sb::net;
using namespace std::chrono;

TEST(QuotaPlanner, PacesEachInterfaceOnItsOwn) {
  ManualClock clock(at("2026-06-21T00:00:00Z"));
  QuotaPlanner p(clock, {});
  EXPECT_TRUE(p.try_take("/a", CallPurpose::Live));
  EXPECT_FALSE(p.try_take("/a", CallPurpose::Live));  // within a second
  EXPECT_TRUE(p.try_take("/b", CallPurpose::Live));   // another interface
  EXPECT_EQ(p.pacing_wait("/a"), Millis(1000));
  clock.advance(Millis(1000));
  EXPECT_TRUE(p.try_take("/a", CallPurpose::Live));
  EXPECT_TRUE(p.try_take("/w", CallPurpose::Command, true));
  clock.advance(Millis(1500));
  EXPECT_FALSE(p.try_take("/w", CallPurpose::Command, true));  // writes: 2 s
  EXPECT_EQ(p.used(), 4);
}

TEST(QuotaPlanner, LiveDataLeavesTheBackgroundShareAndTheCommandReserve) {
  ManualClock clock(at("2026-06-21T00:00:00Z"));
  QuotaPlanner p(clock, {100, Millis(0), Millis(0), Millis(0), 0.05, 0.15});
  int live = 0;
  while (p.try_take("/live", CallPurpose::Live)) ++live;
  EXPECT_EQ(live, 80);
  int background = 0;
  while (p.try_take("/history", CallPurpose::Background)) ++background;
  EXPECT_EQ(background, 15);
  int commands = 0;
  while (p.try_take("/set", CallPurpose::Command, true)) ++commands;
  EXPECT_EQ(commands, 5);
  EXPECT_EQ(p.left(), 0);
  // A new day (00:00 UTC) brings the whole budget back.
  clock.set(at("2026-06-22T00:00:00Z"));
  EXPECT_EQ(p.left(), 100);
  EXPECT_TRUE(p.try_take("/live", CallPurpose::Live));
}

TEST(QuotaPlanner, LiveIntervalSpreadsWhatIsLeftOverTheRestOfTheDay) {
  ManualClock clock(at("2026-06-21T00:00:00Z"));
  QuotaPlanner p(clock, {1440, Millis(1000), Millis(2000)});
  // 1440 - 72 reserve - 216 background = 1152 live calls over 24 h: one every 75 s.
  EXPECT_EQ(p.live_interval(1, Millis(10'000)), Millis(75'000));
  // Twenty inverters in one account, one batch call per refresh: the floor rules.
  p.set_period_calls(1440 * 20);
  EXPECT_EQ(p.live_interval(1, Millis(10'000)), Millis(10'000));
  // Half the day gone with the budget untouched: the rest spreads wider, not faster than needed.
  p.set_period_calls(1440);
  clock.set(at("2026-06-21T12:00:00Z"));
  EXPECT_EQ(p.live_interval(1, Millis(10'000)), Millis(37'500));
  // The vendor says less is left than we counted: we believe it.
  p.observe_remaining(1440 - 1368 + 288 / 2);
  EXPECT_GT(p.live_interval(1, Millis(10'000)), Millis(37'500));
}

TEST(QuotaPlanner, ARefusalForTheDayStopsEverythingUntilTheReset) {
  ManualClock clock(at("2026-06-21T18:00:00Z"));
  QuotaPlanner p(clock, {});
  p.on_refused("/live", true);
  EXPECT_FALSE(p.try_take("/live", CallPurpose::Live));
  EXPECT_FALSE(p.try_take("/set", CallPurpose::Command, true));
  EXPECT_EQ(p.left(), 0);
  EXPECT_EQ(p.next_reset(), at("2026-06-22T00:00:00Z"));
  EXPECT_GE(p.live_interval(1, Millis(10'000)), hours(6));
  clock.set(at("2026-06-22T00:00:01Z"));
  EXPECT_TRUE(p.try_take("/live", CallPurpose::Live));
}

TEST(QuotaPlanner, AMonthlyPlanWithAMinuteLimit) {
  // Enphase's Watt plan: 1,000 calls a UTC month, 10 a minute.
  ManualClock clock(at("2026-02-27T23:59:30Z"));
  QuotaLimits watt{1'000, Millis(0), Millis(0)};
  watt.period = QuotaPeriod::Month;
  watt.per_minute = 10;
  QuotaPlanner p(clock, watt);
  EXPECT_EQ(p.next_reset(), at("2026-03-01T00:00:00Z"));
  int taken = 0;
  while (p.try_take("/api/v4/systems", CallPurpose::Background)) ++taken;
  EXPECT_EQ(taken, 10);  // the minute's limit, not the month's
  EXPECT_EQ(p.pacing_wait("/other"), Millis(30'000));
  clock.advance(seconds(30));
  EXPECT_TRUE(p.try_take("/api/v4/systems", CallPurpose::Background));
  EXPECT_EQ(p.used(), 11);
  // Never due while the live share has no room, however long ago the last refresh was.
  EXPECT_TRUE(p.live_due(std::nullopt, 1, Millis(1000)));
  EXPECT_FALSE(p.live_due(clock.now(), 1, Millis(1000)));
  EXPECT_FALSE(p.live_due(clock.now() - hours(24 * 30), 801, Millis(1000)));
  // The live share (800 of the 1,000; the 11 spent were background work, which has a share of
  // its own) over the 1 day and 30 s left of February, one call per refresh: 86,430 s / 800.
  EXPECT_NEAR(double(p.live_interval(1, Millis(1000)).count()), 86'430'000.0 / 800, 1'000);
  // March brings the month back, and its reset is April the first.
  clock.set(at("2026-03-01T00:00:00Z"));
  EXPECT_EQ(p.used(), 0);
  EXPECT_EQ(p.next_reset(), at("2026-04-01T00:00:00Z"));
  // A 429 for the minute stops the minute; one for the month stops the month.
  p.on_minute_refused();
  EXPECT_FALSE(p.try_take("/a", CallPurpose::Command));
  clock.advance(minutes(1));
  EXPECT_TRUE(p.try_take("/a", CallPurpose::Command));
  p.on_refused("/a", true);
  clock.advance(hours(24 * 20));
  EXPECT_FALSE(p.try_take("/a", CallPurpose::Command));
  EXPECT_EQ(p.left(), 0);
  clock.set(at("2026-04-01T00:00:01Z"));
  EXPECT_TRUE(p.try_take("/a", CallPurpose::Command));
  // A 429 without numbers after 4 calls in a minute: the minute takes at most 3, it seems.
  p.set_per_minute(100);
  clock.advance(minutes(1));
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(p.try_take("/a", CallPurpose::Command));
  EXPECT_EQ(p.minute_used(), 4);
  p.on_minute_refused();
  EXPECT_EQ(p.per_minute(), 3);
  // A 429 body tells the plan: the planner takes its numbers.
  p.set_period_calls(50'000);
  p.set_per_minute(50);
  EXPECT_EQ(p.period_calls(), 50'000);
  EXPECT_EQ(p.per_minute(), 50);
}
