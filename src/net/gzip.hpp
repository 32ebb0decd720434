// gzip for HTTP bodies (RFC 1952 through zlib): what a Prometheus scrape asks for with
// "Accept-Encoding: gzip", and what tests use to read such an answer back.
#pragma once

#include <string>
#include <string_view>

#include "core/result.hpp"

namespace sb::net {

/// Whether an Accept-Encoding header value takes gzip: a "gzip" (or "x-gzip", or "*") coding
/// whose q-value is not 0 (RFC 9110 §12.5.3). Case-insensitive; "" takes nothing.
bool accepts_gzip(std::string_view accept_encoding);

/// `data` as one gzip member. `level` 1 (fastest) to 9 (smallest).
std::string gzip(std::string_view data, int level = 1);

/// The data of a gzip body; a Protocol error naming what is wrong when it is not one (or is
/// cut short), or when it would pass `max_bytes` unpacked.
Result<std::string> gunzip(std::string_view body, std::size_t max_bytes = 256u << 20);

}  // namespace sb::net
