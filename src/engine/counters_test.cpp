#include "engine/counters.hpp"

#include <gtest/gtest.h>

#include "core/metric.hpp"
#include "net/test_io.hpp"

using namespace sb;
using namespace sb::engine;
using namespace std::chrono;

TEST(CounterTrack, ARiseIsStoredAsItIsAFallToZeroIsAResetASmallFallIsHeld) {
  CounterTrack t;
  EXPECT_EQ(t.next(10'000).value, 10'000);
  EXPECT_EQ(t.next(10'500).value, 10'500);
  auto small = t.next(10'450);  // 50 Wh back: cloud rounding, not a reset
  EXPECT_TRUE(small.held);
  EXPECT_EQ(small.value, 10'500);
  EXPECT_EQ(t.next(10'600).value, 10'600);
  auto reset = t.next(20);  // the meter was replaced
  EXPECT_TRUE(reset.reset);
  EXPECT_EQ(reset.value, 10'620);
  EXPECT_EQ(t.offset, 10'600);
  EXPECT_EQ(t.next(120).value, 10'720);
  EXPECT_EQ(CounterTrack::reset_threshold(13'000'000), 130'000);
  EXPECT_EQ(CounterTrack::reset_threshold(500), 100);
}

// Across a restart the offset comes from the store, and history of after the reset gets it
// too; gauges pass unchanged.
TEST(CounterGuard, ResetsAreStoredAndKeptAcrossARestartAndForBackfill) {
  net::TestIo io;
  boost::asio::thread_pool pool{1};
  auto st = std::move(*store::open_sqlite(":memory:"));
  TimePoint t0 = from_ms(1'780'000'000'000);
  const std::string load(metric::kEnergyLoad), power(metric::kLoadPower);
  {
    CounterGuard g(*st, pool);
    std::vector<Sample> a{{"m:1", load, t0, 5'000}, {"m:1", power, t0, 300}};
    ASSERT_TRUE(io.run(g.adjust(a)).empty());
    ASSERT_TRUE(st->write_samples(a));
    std::vector<Sample> b{{"m:1", load, t0 + minutes(1), 3}, {"m:1", power, t0 + minutes(1), 310}};
    auto resets = io.run(g.adjust(b));
    ASSERT_EQ(resets.size(), 1u);
    EXPECT_EQ(resets[0].raw_before, 5'000);
    EXPECT_EQ(resets[0].raw_after, 3);
    EXPECT_EQ(b[0].value, 5'003);
    EXPECT_EQ(b[1].value, 310);  // a gauge is left alone
    ASSERT_TRUE(st->write_samples(b));
  }
  CounterGuard again(*st, pool);  // sunbridge restarted
  std::vector<Sample> c{{"m:1", load, t0 + minutes(2), 10}};
  EXPECT_TRUE(io.run(again.adjust(c)).empty());
  EXPECT_EQ(c[0].value, 5'010);
  std::vector<Sample> hist{{"m:1", load, t0 + Millis(30'000), 4'999, Quality::Backfilled},
                           {"m:1", load, t0 + Millis(90'000), 5, Quality::Backfilled}};
  io.run(again.adjust_history(hist));
  EXPECT_EQ(hist[0].value, 4'999);  // before the reset: as the device had it
  EXPECT_EQ(hist[1].value, 5'005);
  auto stored = st->counter_resets("m:1", load);
  ASSERT_TRUE(stored && stored->size() == 1);
  EXPECT_EQ((*stored)[0].offset, 5'000);
  pool.join();
  st->close();
}
