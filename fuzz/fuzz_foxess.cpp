// libFuzzer target: the FoxESS driver's whole session (discover, poll, history, settings, every
// command) with the fuzzer's input as the cloud's answers (fuzz/harness.hpp for the format),
// and the request signature over the input's text as path and token.
#include <cstddef>
#include <cstdint>

#include "fuzz/harness.hpp"
#include "vendors/foxess/driver.hpp"
#include "vendors/foxess/signature.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto config = sb::fuzz::vendor_config("foxess");
  std::string_view text{reinterpret_cast<const char*>(data), size};
  sb::fuzz::run_scripted(sb::foxess::registry_entry(), config, text);
  // The signature path: any path and token (split at the first newline) signs without fault.
  auto cut = text.find('\n');
  auto path = text.substr(0, cut);
  auto token = cut == std::string_view::npos ? std::string_view{} : text.substr(cut + 1, 64);
  auto headers = sb::foxess::signed_headers(path, token, 1'781'992'800'000);
  if (headers.empty()) __builtin_trap();
  return 0;
}
