// What the store benchmarks share, so that SQLite and PostgreSQL get the same load: a poll
// round as the gateway hands it over, and the two write loads.
#pragma once

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "core/model.hpp"
#include "store/store.hpp"

namespace sb::bench {

inline std::vector<Sample> poll_round(int devices, std::int64_t t,
                                      const std::string& prefix = "conn") {
  std::vector<Sample> v;
  v.reserve(static_cast<std::size_t>(devices) * 14);
  for (int d = 0; d < devices; ++d)
    for (int m = 0; m < 14; ++m)
      v.push_back({prefix + std::to_string(d) + ":battery", "metric." + std::to_string(m),
                   from_ms(t), static_cast<double>(t % 1000 + m), Quality::Measured});
  return v;
}

/// Samples per second through enqueue: 100 rounds of `state.range(0)` devices per iteration,
/// then a flush (everything committed).
inline void enqueue_throughput(benchmark::State& state, store::Store& store) {
  const int devices = static_cast<int>(state.range(0));
  std::int64_t t = 1'763'700'000'000, written = 0;
  for (auto _ : state) {
    for (int r = 0; r < 100; ++r, t += 10'000) {
      auto v = poll_round(devices, t);
      written += static_cast<std::int64_t>(v.size());
      if (!store.enqueue(std::move(v))) state.SkipWithError("queue full");
    }
    if (!store.flush()) state.SkipWithError("flush failed");
  }
  state.counters["samples/s"] =
      benchmark::Counter(static_cast<double>(written), benchmark::Counter::kIsRate);
  store.close();
}

/// The gateway's steady state: every series of `state.range(0)` devices has its current hour
/// waiting for its once-a-minute roll-up, and a batch is one device's poll. A batch should cost
/// its own rows, not a walk over every waiting hour.
inline void small_batches(benchmark::State& state, store::Store& store) {
  const int devices = static_cast<int>(state.range(0));
  const std::int64_t t0 = 1'763'700'000'000 / 3'600'000 * 3'600'000;
  for (std::int64_t t : {t0, t0 + 1}) {  // new hours rolled up, then all of them waiting
    if (!store.enqueue(poll_round(devices, t))) state.SkipWithError("queue full");
    (void)store.flush();
  }
  std::int64_t t = t0 + 2;
  std::vector<Sample> one = poll_round(1, t);
  for (auto _ : state) {
    for (auto& s : one) s.time = from_ms(++t);
    if (!store.enqueue(one) || !store.flush()) state.SkipWithError("write failed");
  }
  state.counters["batches/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  store.close();
}

}  // namespace sb::bench
