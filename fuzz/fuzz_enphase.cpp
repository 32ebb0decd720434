// libFuzzer target: the Enphase driver's whole session (token refresh, discover, poll, history,
// settings, every command) and then every other call of the client (events, alarms, meters,
// lifetime series, telemetry, EV charger, the live_data event stream), with the fuzzer's input
// as the cloud's answers (fuzz/harness.hpp for the format).
#include <cstddef>
#include <cstdint>

#include "fuzz/harness.hpp"
#include "vendors/enphase/driver.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto config = sb::fuzz::vendor_config("enphase");
  sb::fuzz::write_enphase_token_file("fuzz-access-token", "fuzz-refresh-token");
  sb::fuzz::run_scripted(
      sb::enphase::registry_entry(), config, {reinterpret_cast<const char*>(data), size},
      [](sb::net::HttpClient& http, const sb::Clock& clock) {
        return sb::fuzz::enphase_extra(http, clock, {"127.0.0.1", 0, false}, "fuzz-access-token");
      });
  return 0;
}
