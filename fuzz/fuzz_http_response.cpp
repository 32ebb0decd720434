// libFuzzer target: the HTTP client's response parser, as every vendor answer goes through it
// (status line, headers, chunked and length-delimited bodies, the body limit).
#include <cstddef>
#include <cstdint>

#include "net/http_client.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto r = sb::net::parse_response({reinterpret_cast<const char*>(data), size}, 64 * 1024);
  if (r) {
    if (r->status < 0 || r->status > 999) __builtin_trap();  // three digits, as Beast reads them
    if (r->body.size() > 64 * 1024) __builtin_trap();
  } else if (r.error().message.empty()) {
    __builtin_trap();
  }
  return 0;
}
