// libFuzzer target: the solarlog driver's whole session (discover, poll, history, settings, every
// command) with the fuzzer's input as the device's answers (fuzz/harness.hpp for the format).
#include <cstddef>
#include <cstdint>

#include "fuzz/harness.hpp"
#include "vendors/solarlog/driver.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto config = sb::fuzz::vendor_config("solarlog");
  sb::fuzz::run_scripted(sb::solarlog::registry_entry(), config,
                         {reinterpret_cast<const char*>(data), size});
  return 0;
}
