// FoxESS: a whole month of a 20-inverter account under the quota planner (month_run.hpp: the
// documented limits, a poll a minute, a command a day, a two-hour outage on day 10, every
// day's energy checked against the cloud's monthly report), and the cost of one batch
// real-time round trip for the account (client + simulator + mapping in this process).
#include <benchmark/benchmark.h>

#include <iostream>

#include "net/test_io.hpp"
#include "vendors/foxess/client.hpp"
#include "vendors/foxess/mapping.hpp"
#include "vendors/foxess/month_run.hpp"
#include "vendors/foxess/simulator.hpp"

namespace {

using namespace sb;

void BM_FoxessMonthOfTwentyInverters(benchmark::State& state) {
  foxess::MonthRunReport r;
  for (auto _ : state) r = foxess::run_month({});
  std::cout << r.summary();
  if (!r.problems.empty()) state.SkipWithError("the month run found problems (listed above)");
  state.counters["refused_40400"] = double(r.refused_by_cloud);
  state.counters["busiest_day_calls"] = r.busiest_day_calls;
  state.counters["age_p95_s"] = r.age_p95_s;
  state.counters["age_max_s"] = r.age_max_s;
  state.counters["energy_days_missing"] = r.energy_days_expected - r.energy_days;
}
BENCHMARK(BM_FoxessMonthOfTwentyInverters)->Iterations(1)->Unit(benchmark::kSecond);

// One /op/v1/device/real/query for all 20 inverters and every variable, then their mapping.
void BM_FoxessBatchRealTime20(benchmark::State& state) {
  net::TestIo io(1);
  RealClock clock;
  net::HttpClient http(io.executor());
  foxess::SimOptions o;
  o.plants = foxess::make_account(4, 5, 11, true);
  o.query_gap = Millis(0);
  o.daily_calls_per_inverter = 1'000'000;
  foxess::Simulator sim(io.executor(), clock, o);
  (void)sim.listen("127.0.0.1", 0);
  foxess::Client c(http, {"127.0.0.1", sim.port(), false}, o.api_key, clock, Millis(5000));
  std::vector<std::string> sns;
  for (const auto& p : o.plants)
    for (const auto& i : p.inverters) sns.push_back(i.sn);
  std::size_t samples = 0;
  for (auto _ : state) {
    auto op = c.real_time(sns, {});
    auto r = io.run(std::move(op));
    if (!r) {
      state.SkipWithError(r.error().message.c_str());
      break;
    }
    for (const auto& rt : *r) samples += foxess::map_real_time(rt.data, rt.sn, clock.now()).size();
  }
  state.counters["samples_per_call"] =
      benchmark::Counter(double(samples), benchmark::Counter::kAvgIterations);
  sim.stop();
}
BENCHMARK(BM_FoxessBatchRealTime20)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
