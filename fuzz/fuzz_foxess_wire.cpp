// libFuzzer target: one call of the foxess client per run, the call picked by the input's first
// byte and the rest of the input as the vendor's answers (fuzz/wire.hpp): its decoders at the
// speed of one body, where fuzz_foxess runs a whole driver session.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/wire.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sb::fuzz::run_wire("foxess", std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
