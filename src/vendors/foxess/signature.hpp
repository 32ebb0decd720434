// The FoxESS Open API request signature (foxess.md §2.2, protocols.md §2.1): lowercase hex MD5
// of path + `\r\n` + token + `\r\n` + timestamp, where each `\r\n` is the four characters
// backslash, r, backslash, n (the seed's raw f-string), path without host or query, timestamp
// in epoch milliseconds as decimal text. Both the client and the simulator use it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "net/http.hpp"

namespace sb::foxess {

/// The text that is hashed: "/op/v0/device/list\r\nabc\r\n1700000000000" with literal
/// backslashes (`crlf`: the prose's real CR LF bytes instead, which the cloud refuses).
std::string signature_text(std::string_view path, std::string_view token, std::int64_t timestamp_ms,
                           bool crlf = false);
/// 32 lowercase hex digits.
std::string sign(std::string_view path, std::string_view token, std::int64_t timestamp_ms,
                 bool crlf = false);

/// The headers of a signed request: token (API key mode), timestamp, signature, lang,
/// a browser User-Agent as the seed asks of script callers.
net::Headers signed_headers(std::string_view path, std::string_view token,
                            std::int64_t timestamp_ms, std::string_view lang = "en");

}  // namespace sb::foxess
