// libFuzzer target: OAuth token handling: a token endpoint's answer (the body, at a status
// taken from the first byte) and the token file as `sunbridge auth` and the drivers read it.
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>

#include "fuzz/harness.hpp"
#include "net/token_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string& path = sb::fuzz::process_temp_file("token");
  std::string_view text{reinterpret_cast<const char*>(data), size};
  static constexpr int kStatus[] = {200, 201, 400, 401, 403, 429, 500, 503};
  int status = size ? kStatus[data[0] % 8] : 200;
  auto answer = sb::net::parse_token_answer(status, text.substr(size ? 1 : 0), "fuzz");
  if (answer && status >= 400) __builtin_trap();  // an error status never gives tokens
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
  }
  auto file = sb::net::load_token_file(path);
  if (!file && file.error().message.empty()) __builtin_trap();
  return 0;
}
