// Samples per second into SQLite through the store's writer (the production path: enqueue,
// writer thread, batched key-sorted transactions with their hourly rollups, WAL), small batches
// among many series waiting for their roll-up (the gateway's steady state), a one-day
// range read of one series, and thirty days in hours with and without the rollups.
#include <benchmark/benchmark.h>

#include <filesystem>

#include "poll_round.hpp"
#include "store/store.hpp"

namespace {

namespace fs = std::filesystem;

fs::path fresh_db() {
  auto p = fs::temp_directory_path() / "sunbridge-bench.db";
  for (auto s : {"", "-wal", "-shm"}) fs::remove(p.string() + s);
  return p;
}

void BM_SqliteEnqueueThroughput(benchmark::State& state) {
  auto store = std::move(*sb::store::open_sqlite(fresh_db().string()));
  sb::bench::enqueue_throughput(state, *store);
}

void BM_SqliteSmallBatches(benchmark::State& state) {
  auto store = std::move(*sb::store::open_sqlite(fresh_db().string()));
  sb::bench::small_batches(state, *store);
}

void BM_SqliteRangeReadOneDay(benchmark::State& state) {
  auto path = fresh_db();
  auto store = std::move(*sb::store::open_sqlite(path.string()));
  std::int64_t t0 = 1'763'700'000'000;
  for (int r = 0; r < 8640; ++r)
    (void)store->enqueue(sb::bench::poll_round(10, t0 + r * 10'000LL));  // a day, 10 s polls
  (void)store->flush();
  std::size_t points = 0;
  for (auto _ : state) {
    auto h = store->history(
        {"conn3:battery", "metric.5", {sb::from_ms(t0), sb::from_ms(t0 + 86'400'000)}});
    points += h->size();
  }
  state.counters["points/s"] =
      benchmark::Counter(static_cast<double>(points), benchmark::Counter::kIsRate);
  store->close();
}

// Thirty days of one device (14 metrics, 10 s polls: 3.6 million samples) read as hourly
// buckets: from the hourly rollups (hour-aligned range) and, for comparison, from the samples
// (the same range one millisecond later, which the rollups cannot serve).
void BM_SqliteThirtyDaysHourly(benchmark::State& state) {
  bool rollups = state.range(0) == 1;
  static std::unique_ptr<sb::store::Store> store;
  const std::int64_t t0 = 1'763'700'000'000 / 3'600'000 * 3'600'000;
  if (!store) {
    auto path = fresh_db();
    store = std::move(*sb::store::open_sqlite(path.string()));
    for (int day = 0; day < 30; ++day) {  // a day at a time: the queue holds 2 million
      for (int r = 0; r < 8640; ++r)
        if (!store->enqueue(sb::bench::poll_round(1, t0 + (day * 8640 + r) * 10'000LL)))
          state.SkipWithError("queue full");
      (void)store->flush();
    }
  }
  auto from = t0 + (rollups ? 0 : 1);
  std::size_t points = 0;
  for (auto _ : state) {
    auto h = store->history({"conn0:battery",
                             "metric.5",
                             {sb::from_ms(from), sb::from_ms(from + 30LL * 86'400'000)},
                             sb::Millis(3'600'000)});
    points += h->size();
  }
  state.counters["points"] =
      benchmark::Counter(static_cast<double>(points), benchmark::Counter::kAvgIterations);
}

}  // namespace

BENCHMARK(BM_SqliteThirtyDaysHourly)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SqliteEnqueueThroughput)
    ->Arg(10)
    ->Arg(1000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_SqliteSmallBatches)->Arg(10)->Arg(1000)->Arg(10000)->UseRealTime();
BENCHMARK(BM_SqliteRangeReadOneDay)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
