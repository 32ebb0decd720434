// libFuzzer target: the HTTP server's request parser and its target decoding (path segments,
// query parameters, the lenient brackets), as every request to the REST API goes through it.
#include <cstddef>
#include <cstdint>

#include "net/http_server.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto r = sb::net::parse_request({reinterpret_cast<const char*>(data), size}, 64 * 1024);
  if (r) {
    // What the router relies on: a path that starts with '/', segments without it.
    if (r->path.empty() || r->path.front() != '/') __builtin_trap();
    if (r->query.size() > r->query_list.size()) __builtin_trap();
  } else if (r.error().message.empty()) {
    __builtin_trap();
  }
  return 0;
}
