// /metrics at 10,000 devices (one sonnen battery a connection, 19 values each, as the load
// harness polls them): one render with every device's values and each connection's work
// (`devices` detail) and with the work summed per vendor (`vendors`, the default past 100
// connections). The gateway answers from memory (a FakeGateway holding what a gateway would).
#include <benchmark/benchmark.h>

#include "core/metric.hpp"
#include "core/test_gateway.hpp"
#include "outputs/prometheus/exposition.hpp"

namespace {

using namespace sb;

const test::FakeGateway& gateway() {
  static test::FakeGateway gw = [] {
    test::FakeGateway g;
    const TimePoint t = from_ms(1'763'700'000'000);
    const char* metrics[] = {"pv.power",
                             "load.power",
                             "grid.power",
                             "battery.power",
                             "battery.soc",
                             "battery.soh",
                             "battery.temperature",
                             "grid.frequency",
                             "energy.pv_yield",
                             "energy.grid_import",
                             "energy.grid_export",
                             "energy.battery_charge",
                             "energy.battery_discharge",
                             "energy.load",
                             "ac.power",
                             "device.online",
                             "vendor.sonnen.USOC",
                             "vendor.sonnen.RSOC",
                             "vendor.sonnen.Ubat"};
    for (int i = 0; i < 10'000; ++i) {
      auto name = "bat-" + std::to_string(i);
      DeviceLive d;
      d.device = {name + ":battery",
                  "site-" + std::to_string(i),
                  name,
                  "sonnen",
                  "battery",
                  "sonnen",
                  "eco 8",
                  "",
                  ""};
      d.online = true;
      d.last_success = t;
      for (const char* m : metrics) d.values.push_back({m, t, 1234.5 + i, Quality::Measured});
      g.live_.push_back(std::move(d));
      ConnectionHealth h;
      h.name = name;
      h.vendor = "sonnen";
      h.site = "site-" + std::to_string(i);
      h.state = "ok";
      h.polls = 8640;
      h.latency_counts[2] = 8640;
      h.latency_sum_s = 150;
      h.lateness_counts[0] = 8640;
      h.last_success = t;
      g.health_.push_back(std::move(h));
    }
    return g;
  }();
  return gw;
}

void BM_MetricsRender10000Devices(benchmark::State& state) {
  const auto detail =
      state.range(0) == 0 ? prometheus::Detail::Devices : prometheus::Detail::Vendors;
  const auto& gw = gateway();
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto text = prometheus::render(gw, {}, std::nullopt, detail);
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.SetLabel(state.range(0) == 0 ? "devices" : "vendors");
  state.counters["MB"] = static_cast<double>(bytes) / 1e6;
}

}  // namespace

BENCHMARK(BM_MetricsRender10000Devices)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
