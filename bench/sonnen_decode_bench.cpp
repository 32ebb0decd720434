// JSON decode + mapping of one sonnen status: the per-poll CPU cost of the sonnen driver.
#include <benchmark/benchmark.h>

#include "vendors/sonnen/mapping.hpp"
#include "vendors/sonnen/wire.hpp"

namespace {

const std::string kSim =
    R"({"Consumption_W":812,"Fac":50.01,"IsSystemInstalled":1,"Pac_total_W":-1534,"Production_W":2871,"RSOC":57,"Timestamp":"2026-11-21 12:00:00","USOC":55,"Uac":231,"Ubat":52})";
const std::string kFirmware =
    R"({"Apparent_output":680,"BackupBuffer":"0","BatteryCharging":false,"BatteryDischarging":true,"Consumption_Avg":816,"Consumption_W":719,"Fac":50.00437545776367,"FlowConsumptionBattery":true,"FlowConsumptionGrid":true,"FlowConsumptionProduction":false,"FlowGridBattery":false,"FlowProductionBattery":false,"FlowProductionGrid":false,"GridFeedIn_W":-35,"IsSystemInstalled":1,"OperatingMode":"2","Pac_total_W":687,"Production_W":0,"RSOC":84,"RemainingCapacity_W":8665,"Sac1":680,"Sac2":null,"Sac3":null,"SystemStatus":"OnGrid","Timestamp":"2021-03-05 18:30:27","USOC":82,"Uac":227,"Ubat":210,"dischargeNotAllowed":false,"generator_autostart":false})";

void decode_and_map(benchmark::State& state, const std::string& body) {
  std::size_t samples = 0;
  for (auto _ : state) {
    auto s = sb::sonnen::parse_status(body);
    auto mapped = sb::sonnen::map_status(*s, "sonnen:battery", sb::from_ms(0));
    samples += mapped.size();
    benchmark::DoNotOptimize(mapped);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
  state.counters["samples/s"] =
      benchmark::Counter(static_cast<double>(samples), benchmark::Counter::kIsRate);
}

void BM_SonnenStatusSimulator(benchmark::State& s) {
  decode_and_map(s, kSim);
}
void BM_SonnenStatusRealFirmware(benchmark::State& s) {
  decode_and_map(s, kFirmware);
}

// The decoders alone: the one polls take (the fast path, no DOM) and the full one that takes
// what the fast path leaves (numeric strings, duplicates) and words every error.
template <class Decode>
void decode_only(benchmark::State& state, const std::string& body, Decode decode) {
  for (auto _ : state) {
    auto s = decode(body);
    if (!s) state.SkipWithError("not decoded");
    benchmark::DoNotOptimize(s);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}
void BM_SonnenDecodeFastPath(benchmark::State& s) {
  decode_only(s, kFirmware, sb::sonnen::parse_status_fast);
}
void BM_SonnenDecodeFullDecoder(benchmark::State& s) {
  decode_only(s, kFirmware, sb::sonnen::parse_status_full);
}

void BM_SonnenStatusSerialise(benchmark::State& state) {
  auto s = *sb::sonnen::parse_status(kSim);
  for (auto _ : state) benchmark::DoNotOptimize(sb::sonnen::serialize_status(s));
}

}  // namespace

BENCHMARK(BM_SonnenStatusSimulator);
BENCHMARK(BM_SonnenStatusRealFirmware);
BENCHMARK(BM_SonnenDecodeFastPath);
BENCHMARK(BM_SonnenDecodeFullDecoder);
BENCHMARK(BM_SonnenStatusSerialise);
BENCHMARK_MAIN();
