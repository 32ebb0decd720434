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
