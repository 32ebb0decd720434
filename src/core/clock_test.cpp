#include "core/clock.hpp"

#include <gtest/gtest.h>

using namespace sb;
using namespace std::chrono;

TEST(Iso8601, FormatsUtcWithAndWithoutMillis) {
  TimePoint t = from_ms(1'763'719'200'000);  // 2025-11-21T10:00:00Z
  EXPECT_EQ(format_iso8601(t), "2025-11-21T10:00:00Z");
  EXPECT_EQ(format_iso8601(t + Millis(250)), "2025-11-21T10:00:00.250Z");
}

TEST(Iso8601, ParsesZonesFractionsDatesAndEpochMillis) {
  TimePoint t;
  ASSERT_TRUE(parse_iso8601("2025-11-21T10:00:00Z", t));
  EXPECT_EQ(to_ms(t), 1'763'719'200'000);
  ASSERT_TRUE(parse_iso8601("2025-11-21T11:00:00+01:00", t));
  EXPECT_EQ(to_ms(t), 1'763'719'200'000);
  ASSERT_TRUE(parse_iso8601("2025-11-21T10:00:00.5Z", t));
  EXPECT_EQ(to_ms(t), 1'763'719'200'500);
  ASSERT_TRUE(parse_iso8601("2025-11-21", t));
  EXPECT_EQ(to_ms(t), 1'763'683'200'000);
  ASSERT_TRUE(parse_iso8601("1763719200000", t));
  EXPECT_EQ(to_ms(t), 1'763'719'200'000);
}

TEST(Iso8601, RejectsLocalTimesAndGarbage) {
  TimePoint t;
  EXPECT_FALSE(parse_iso8601("2025-11-21T10:00:00", t));  // no zone: ambiguous
  EXPECT_FALSE(parse_iso8601("2025-13-01", t));
  EXPECT_FALSE(parse_iso8601("yesterday", t));
  EXPECT_FALSE(parse_iso8601("2025-11-21T25:00:00Z", t));
  EXPECT_FALSE(parse_iso8601("", t));
}

TEST(DurationText, ReadsAsSecondsMinutesOrHours) {
  EXPECT_EQ(duration_text(Millis(12'400)), "12 s");
  EXPECT_EQ(duration_text(Millis(245'000)), "4 min 05 s");
  EXPECT_EQ(duration_text(Millis(7'500'000)), "2 h 05 min");
}

TEST(ManualClock, AdvancesOnlyWhenTold) {
  ManualClock c(from_ms(1000));
  EXPECT_EQ(to_ms(c.now()), 1000);
  c.advance(Millis(500));
  EXPECT_EQ(to_ms(c.now()), 1500);
  c.set(from_ms(42));
  EXPECT_EQ(to_ms(c.now()), 42);
}

TEST(ScaledClock, RunsFasterThanRealTime) {
  ScaledClock c(from_ms(0), 1000.0);
  auto a = c.now();
  auto deadline = steady_clock::now() + milliseconds(20);
  while (steady_clock::now() < deadline) {
  }
  auto b = c.now();
  EXPECT_GE((b - a).count(), 15'000);  // 20 ms real = 20 s scaled (some slack)
}

TEST(ScaledClock, ProcessesOnOneTimelineReadTheSameTime) {
  // Origin 10:00, 60x: a process starting at 10:05 wall time reads 15:00 simulated, and one
  // restarted at 10:06 joins at 16:00, whenever each was started.
  TimePoint origin;
  ASSERT_TRUE(parse_iso8601("2026-12-01T10:00:00Z", origin));
  auto first = ScaledClock::on_timeline(origin, 60, origin + minutes(5));
  auto later = ScaledClock::on_timeline(origin, 60, origin + minutes(6));
  auto a = first.now(), b = later.now();
  EXPECT_EQ(format_iso8601(std::chrono::floor<std::chrono::minutes>(a)), "2026-12-01T15:00:00Z");
  EXPECT_EQ(format_iso8601(std::chrono::floor<std::chrono::minutes>(b)), "2026-12-01T16:00:00Z");
  EXPECT_EQ(first.rate(), 60);
}

TEST(RealWait, DividesScheduleWaitsByTheClocksRate) {
  RealClock real;
  ManualClock manual(from_ms(0));
  ScaledClock fast(from_ms(0), 60);
  EXPECT_EQ(real.rate(), 1);
  EXPECT_EQ(real_wait(real, Millis(10'000)), Millis(10'000));
  EXPECT_EQ(real_wait(manual, Millis(10'000)), Millis(10'000));
  EXPECT_EQ(real_wait(fast, Millis(60'000)), Millis(1'000));
  EXPECT_EQ(real_wait(fast, Millis(10)), Millis(1));  // never a zero wait
  EXPECT_EQ(real_wait(fast, Millis(0)), Millis(0));
}
