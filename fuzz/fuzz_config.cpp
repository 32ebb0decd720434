// libFuzzer target: the YAML configuration loader with every built-in driver's option checks,
// as `sunbridge check-config` and `run` read a user's file. A refusal must name the problem.
#include <cstddef>
#include <cstdint>

#include "engine/config.hpp"
#include "engine/drivers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto c = sb::engine::parse_config({reinterpret_cast<const char*>(data), size}, "fuzz.yaml",
                                    sb::engine::builtin_drivers());
  if (!c && c.error().message.empty()) __builtin_trap();
  return 0;
}
