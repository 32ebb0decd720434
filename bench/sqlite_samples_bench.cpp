// Samples per second into SQLite through the store's writer (the production path: enqueue,
// writer thread, batched key-sorted transactions, WAL), and a one-day range read of one series.
#include <benchmark/benchmark.h>

#include <filesystem>

#include "store/store.hpp"

namespace {

namespace fs = std::filesystem;

fs::path fresh_db() {
  auto p = fs::temp_directory_path() / "sunbridge-bench.db";
  for (auto s : {"", "-wal", "-shm"}) fs::remove(p.string() + s);
  return p;
}

// One poll round: `devices` devices x 14 metrics at one time, as the gateway writes them.
std::vector<sb::Sample> round(int devices, std::int64_t t) {
  std::vector<sb::Sample> v;
  v.reserve(static_cast<std::size_t>(devices) * 14);
  for (int d = 0; d < devices; ++d)
    for (int m = 0; m < 14; ++m)
      v.push_back({"conn" + std::to_string(d) + ":battery", "metric." + std::to_string(m),
                   sb::from_ms(t), static_cast<double>(t % 1000 + m), sb::Quality::Measured});
  return v;
}

void BM_SqliteEnqueueThroughput(benchmark::State& state) {
  const int devices = static_cast<int>(state.range(0));
  auto path = fresh_db();
  auto store = std::move(*sb::store::open_sqlite(path.string()));
  std::int64_t t = 1'763'700'000'000, written = 0;
  for (auto _ : state) {
    // 100 poll rounds per iteration, then wait until they are on disk.
    for (int r = 0; r < 100; ++r, t += 10'000) {
      auto v = round(devices, t);
      written += static_cast<std::int64_t>(v.size());
      if (!store->enqueue(std::move(v))) state.SkipWithError("queue full");
    }
    if (!store->flush()) state.SkipWithError("flush failed");
  }
  state.counters["samples/s"] =
      benchmark::Counter(static_cast<double>(written), benchmark::Counter::kIsRate);
  store->close();
}

void BM_SqliteRangeReadOneDay(benchmark::State& state) {
  auto path = fresh_db();
  auto store = std::move(*sb::store::open_sqlite(path.string()));
  std::int64_t t0 = 1'763'700'000'000;
  for (int r = 0; r < 8640; ++r)
    (void)store->enqueue(round(10, t0 + r * 10'000LL));  // a day, 10 s polls
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

}  // namespace

BENCHMARK(BM_SqliteEnqueueThroughput)
    ->Arg(10)
    ->Arg(1000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_SqliteRangeReadOneDay)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
