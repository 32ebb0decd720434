// KOSTAL: the cost of a login (PBKDF2 at the real devices' 29000 rounds dominates) and of a
// process-data poll round trip against the simulator on loopback (client + server + mapping,
// both in this process: the CPU time per poll is an upper bound for the gateway's share).
#include <benchmark/benchmark.h>

#include "net/test_io.hpp"
#include "vendors/kostal/client.hpp"
#include "vendors/kostal/mapping.hpp"
#include "vendors/kostal/scram.hpp"
#include "vendors/kostal/simulator.hpp"

namespace {

using namespace sb;

// The client side's arithmetic alone.
void BM_KostalKeyDerivation29000Rounds(benchmark::State& state) {
  for (auto _ : state) {
    auto k = kostal::derive_client_keys("user", "owner-password", "AQIDBAUGBwgJCgsM",
                                        "AQIDBAUGBwgJCgsMc2VydmVyLW5v", "MDEyMzQ1Njc4OWFi", 29000);
    benchmark::DoNotOptimize(k);
  }
}

struct Rig {
  net::TestIo io{1};
  RealClock clock;
  net::HttpClient http{io.executor()};
  kostal::Simulator sim{io.executor(), clock, sim::SiteConfig{}, kostal::SimOptions{}};
  Rig() { (void)sim.listen("127.0.0.1", 0); }
  ~Rig() { sim.stop(); }
  kostal::Client client() {
    return kostal::Client(http, {"127.0.0.1", sim.port(), false}, {"user", "owner-password", ""});
  }
};

// The whole handshake over HTTP: start, finish, create_session (PBKDF2 on both sides: the
// simulator keeps the derived keys, so only the client derives per login).
void BM_KostalLoginHandshake(benchmark::State& state) {
  Rig rig;
  for (auto _ : state) {
    auto c = rig.client();
    auto r = rig.io.run(c.login());
    if (!r) state.SkipWithError(r.error().message.c_str());
  }
}

// One poll as the driver makes it: a POST /processdata of every module, then the mapping.
void BM_KostalPollRoundTrip(benchmark::State& state) {
  Rig rig;
  auto c = rig.client();
  auto request = kostal::poll_request(2, true);
  std::size_t samples = 0;
  for (auto _ : state) {
    auto r = rig.io.run(c.process_data(request));
    if (!r) {
      state.SkipWithError(r.error().message.c_str());
      break;
    }
    samples += kostal::map_process_data(*r, "inv:1", rig.clock.now()).size();
  }
  state.counters["polls/cpu-s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["samples/poll"] =
      static_cast<double>(samples) /
      static_cast<double>(std::max<std::int64_t>(1, state.iterations()));
}

}  // namespace

BENCHMARK(BM_KostalKeyDerivation29000Rounds)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_KostalLoginHandshake)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();
BENCHMARK(BM_KostalPollRoundTrip)->Unit(benchmark::kMicrosecond)->MeasureProcessCPUTime();
BENCHMARK_MAIN();
