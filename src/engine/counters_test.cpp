#include "engine/counters.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>
#include <map>

#include "core/metric.hpp"
#include "core/test_time.hpp"
#include "engine/estimates.hpp"
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

// Solar-Log hands out the whole day's 5-minute slots again after a restart: the older readings
// are stored as they are, not held at the newest stored value (which flattened the day's
// counter up to the restart), and the newest reading still holds a small fall.
TEST(CounterGuard, AnOlderReadingHandedOutAgainIsHistoryNotAFall) {
  net::TestIo io;
  boost::asio::thread_pool pool{1};
  auto st = std::move(*store::open_sqlite(":memory:"));
  TimePoint t0 = from_ms(1'780'000'000'000);
  const std::string pv(metric::kEnergyPvYield);
  ASSERT_TRUE(st->write_samples({{"s:1", pv, t0 + minutes(60), 18'937'269}}));
  CounterGuard g(*st, pool);  // sunbridge restarted
  std::vector<Sample> day{{"s:1", pv, t0 + minutes(5), 18'918'100},
                          {"s:1", pv, t0 + minutes(30), 18'925'000},
                          {"s:1", pv, t0 + minutes(60), 18'937'269},
                          {"s:1", pv, t0 + minutes(65), 18'937'200}};
  EXPECT_TRUE(io.run(g.adjust(day)).empty());
  EXPECT_EQ(day[0].value, 18'918'100);
  EXPECT_EQ(day[1].value, 18'925'000);
  EXPECT_EQ(day[2].value, 18'937'269);
  EXPECT_EQ(day[3].value, 18'937'269);  // newer and 69 Wh lower: rounding, held
  pool.join();
  st->close();
}

// FoxESS's history and its live values are rounded apart: a backfilled reading 0.1 kWh below the
// live one before the gap is held at it, one above the reading after the gap is held at that,
// and the readings between only rise.
TEST(CounterHistory, BackfilledReadingsFitBetweenTheStoredOnesAndOnlyRise) {
  std::vector<double> v{13'568'400, 13'568'400.000000002, 13'568'450, 13'568'449.99, 13'569'000};
  std::vector<double*> p;
  for (auto& x : v) p.push_back(&x);
  fit_between(p, 13'568'500, 13'568'900);
  EXPECT_EQ(v, (std::vector<double>{13'568'500, 13'568'500, 13'568'500, 13'568'500, 13'568'900}));
  std::vector<double> free{5, 4, 7};
  std::vector<double*> q{&free[0], &free[1], &free[2]};
  fit_between(q, std::nullopt, std::nullopt);  // nothing stored around: only made monotonic
  EXPECT_EQ(free, (std::vector<double>{5, 5, 7}));
  std::vector<double> odd{10};
  std::vector<double*> r{&odd[0]};
  fit_between(r, 20, 15);  // stored values that disagree: the earlier holds
  EXPECT_EQ(odd[0], 20);
}

TEST(EnergyEstimates, PowerIsIntegratedAndAHoleAddsNothing) {
  Integral i;
  auto t0 = sb::test::at("2026-06-15T10:00:00Z");
  EXPECT_FALSE(i.add(t0, 1000, minutes(1)));  // the first reading starts it
  EXPECT_TRUE(i.add(t0 + seconds(36), 3000, minutes(1)));
  EXPECT_DOUBLE_EQ(i.total_wh, 20);                         // 2000 W for a hundredth of an hour
  EXPECT_FALSE(i.add(t0 + minutes(10), 3000, minutes(1)));  // a gap: not 3 kW for 9 minutes
  EXPECT_DOUBLE_EQ(i.total_wh, 20);
  EXPECT_TRUE(i.add(t0 + minutes(10) + seconds(36), 1000, minutes(1)));
  EXPECT_DOUBLE_EQ(i.total_wh, 40);
}

// A device without counters gets them from its powers, going on after a restart from what was
// stored; one that measures a counter keeps its own.
TEST(EnergyEstimates, CountersTheDeviceLacksComeFromItsPowers) {
  boost::asio::io_context io;
  boost::asio::thread_pool pool{1};
  auto store = std::move(*store::open_sqlite(":memory:"));
  DeviceInfo d{"bat:battery", "home", "bat", "sonnen", "battery"};
  auto t0 = sb::test::at("2026-06-15T10:00:00Z");
  auto poll = [&](EnergyEstimator& e, TimePoint t, double grid, double pv,
                  std::optional<double> measured_pv_yield) {
    std::vector<Sample> s = {{d.id, "grid.power", t, grid}, {d.id, "pv.power", t, pv}};
    if (measured_pv_yield) s.push_back({d.id, "energy.pv_yield", t, *measured_pv_yield});
    auto f = boost::asio::co_spawn(io, e.add(d, s, minutes(1)), boost::asio::use_future);
    io.restart();
    io.run();
    f.get();
    std::map<std::string, Sample> est;
    for (const auto& x : s)
      if (x.quality == Quality::Estimated) est[x.metric] = x;
    return est;
  };
  {
    EnergyEstimator e(*store, pool);
    EXPECT_TRUE(poll(e, t0, 1000, 0, std::nullopt).empty());
    auto second = poll(e, t0 + seconds(36), -1000, 0, std::nullopt);
    EXPECT_DOUBLE_EQ(second.at("energy.grid_import").value, 5);  // 1000 -> 0 W import, 0.01 h
    EXPECT_DOUBLE_EQ(second.at("energy.grid_export").value, 5);
    EXPECT_DOUBLE_EQ(second.at("energy.pv_yield").value, 0);
    ASSERT_TRUE(store->write_samples({second.at("energy.grid_import")}));
    // The PV yield the device measures is its own.
    auto measured = poll(e, t0 + seconds(72), -1000, 500, 12'000);
    EXPECT_FALSE(measured.contains("energy.pv_yield"));
    // ... also in a poll without it (a cloud's counters come every 15 minutes, its powers
    // every 5): an estimate there would sit at another level beside the device's readings.
    auto between = poll(e, t0 + seconds(108), -1000, 500, std::nullopt);
    EXPECT_FALSE(between.contains("energy.pv_yield"));
    EXPECT_TRUE(between.contains("energy.grid_export"));
    ASSERT_TRUE(store->write_samples({{d.id, "energy.pv_yield", t0 + seconds(72), 12'000}}));
  }
  // A restart: the import counter goes on from the stored 5 Wh; the PV yield stored as the
  // device's own reading is not estimated.
  EnergyEstimator again(*store, pool);
  EXPECT_TRUE(poll(again, t0 + minutes(5), 2000, 0, std::nullopt).empty());
  auto next = poll(again, t0 + minutes(5) + seconds(36), 2000, 0, std::nullopt);
  EXPECT_DOUBLE_EQ(next.at("energy.grid_import").value, 25);
  EXPECT_FALSE(next.contains("energy.pv_yield"));
  pool.join();
  store->close();
}
