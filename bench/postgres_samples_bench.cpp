// Samples per second into PostgreSQL through the real store (enqueue, writer thread, COPY into
// the staging table, one merge, hourly rollups), small batches among many waiting series, and
// history reads of one series over a month (raw, hourly from the rollups, hourly from the
// samples). The server is the bench's own: PostgreSQL 15 started in a temporary folder on a
// loopback port (tests/pg_server.hpp), with fsync off as in the tests, so the figures are the
// store's and the server's CPU, not this machine's disk.
#include <benchmark/benchmark.h>

#include <thread>

#include "pg_server.hpp"
#include "poll_round.hpp"
#include "store/store.hpp"

namespace {

sb::test::PgServer& server() {
  static sb::test::PgServer s;
  return s;
}

std::unique_ptr<sb::store::Store> fresh_store(benchmark::State& state,
                                              std::string* made = nullptr) {
  static int n = 0;
  auto url = server().create_database("bench" + std::to_string(n++));
  if (made) *made = url;
  if (!server().error().empty()) {
    state.SkipWithError(server().error().c_str());
    return nullptr;
  }
  auto s = sb::store::open_postgres(url);
  if (!s) {
    state.SkipWithError(s.error().message.c_str());
    return nullptr;
  }
  return std::move(*s);
}

void BM_PostgresEnqueueThroughput(benchmark::State& state) {
  if (auto store = fresh_store(state)) sb::bench::enqueue_throughput(state, *store);
}

void BM_PostgresSmallBatches(benchmark::State& state) {
  if (auto store = fresh_store(state)) sb::bench::small_batches(state, *store);
}

// Thirty days of one device (14 metrics, 10 s polls: 3.6 million samples), one series read
// raw (259,200 points), as hourly buckets from the rollups, and as hourly buckets from the
// samples (a range one millisecond off the hour, which the rollups cannot serve).
void BM_PostgresMonthOfOneSeries(benchmark::State& state) {
  static std::unique_ptr<sb::store::Store> store;
  static std::string url;
  const std::int64_t t0 = 1'763'700'000'000 / 3'600'000 * 3'600'000;
  if (!store) {
    store = fresh_store(state, &url);
    if (!store) return;
    for (int day = 0; day < 30; ++day) {
      for (int r = 0; r < 8640; ++r)
        if (!store->enqueue(sb::bench::poll_round(1, t0 + (day * 8640 + r) * 10'000LL)))
          state.SkipWithError("queue full");
      (void)store->flush();
    }
    store->close();  // rolls up the waiting hours
    store = std::move(*sb::store::open_postgres(url));
  }
  const int mode = static_cast<int>(state.range(0));  // 0 raw, 1 hourly rollups, 2 hourly samples
  auto from = t0 + (mode == 2 ? 1 : 0);
  std::optional<sb::Millis> step;
  if (mode > 0) step = sb::Millis(3'600'000);
  std::size_t points = 0;
  for (auto _ : state) {
    auto h = store->history({"conn0:battery",
                             "metric.5",
                             {sb::from_ms(from), sb::from_ms(from + 30LL * 86'400'000)},
                             step,
                             1'000'000});
    if (!h) state.SkipWithError(h.error().message.c_str());
    points += h ? h->size() : 0;
  }
  state.counters["points"] =
      benchmark::Counter(static_cast<double>(points), benchmark::Counter::kAvgIterations);
}

// Two fleet workers storing at once into one database, each through its own store (writer
// connection, server backend): samples per second of both together. Each writes 100 rounds
// of `state.range(0)` devices of its own per iteration.
void BM_PostgresTwoWorkers(benchmark::State& state) {
  std::string url;
  auto first = fresh_store(state, &url);
  if (!first) return;
  auto second = sb::store::open_postgres(url);
  if (!second) return state.SkipWithError(second.error().message.c_str());
  const int devices = static_cast<int>(state.range(0));
  std::int64_t t = 1'763'700'000'000, written = 0;
  for (auto _ : state) {
    auto load = [&](sb::store::Store& store, const std::string& prefix) {
      for (int r = 0; r < 100; ++r)
        if (!store.enqueue(sb::bench::poll_round(devices, t + r * 10'000LL, prefix))) return false;
      return static_cast<bool>(store.flush());
    };
    bool ok_second = true;
    std::thread other([&] { ok_second = load(**second, "w2-conn"); });
    bool ok_first = load(*first, "w1-conn");
    other.join();
    if (!ok_first || !ok_second) state.SkipWithError("a write failed");
    written += 2LL * 100 * devices * 14;
    t += 100 * 10'000LL;
  }
  state.counters["samples/s"] =
      benchmark::Counter(static_cast<double>(written), benchmark::Counter::kIsRate);
  first->close();
  (*second)->close();
}

}  // namespace

BENCHMARK(BM_PostgresTwoWorkers)->Arg(10)->Arg(1000)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PostgresMonthOfOneSeries)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PostgresEnqueueThroughput)
    ->Arg(10)
    ->Arg(1000)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PostgresSmallBatches)->Arg(1000)->Arg(10000)->UseRealTime();
BENCHMARK_MAIN();
