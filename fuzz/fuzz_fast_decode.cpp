// libFuzzer target: the polling hot path's fast decoders (sonnen status, KOSTAL process data)
// against the full decoders they stand in front of. Whenever a fast path gives an answer, the
// full decoder must give the same one: a fast path may leave a body to the full decoder, never
// read it differently. The input is one raw body, read both ways.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "vendors/kostal/client.hpp"
#include "vendors/sonnen/wire.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  if (auto fast = sb::sonnen::parse_status_fast(body)) {
    auto full = sb::sonnen::parse_status_full(body);
    if (!full || !(*full == *fast)) __builtin_trap();
  }
  if (auto fast = sb::kostal::parse_process_data_fast(body)) {
    auto full = sb::kostal::parse_process_data_full(body, "fuzz");
    if (!full || !(*full == *fast)) __builtin_trap();
  }
  return 0;
}
