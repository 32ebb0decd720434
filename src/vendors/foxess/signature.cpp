#include "vendors/foxess/signature.hpp"

#include "net/crypto.hpp"

namespace sb::foxess {

std::string signature_text(std::string_view path, std::string_view token, std::int64_t timestamp_ms,
                           bool crlf) {
  std::string_view sep = crlf ? "\r\n" : R"(\r\n)";
  std::string out;
  out.reserve(path.size() + token.size() + 2 * sep.size() + 13);
  out.append(path).append(sep).append(token).append(sep).append(std::to_string(timestamp_ms));
  return out;
}

std::string sign(std::string_view path, std::string_view token, std::int64_t timestamp_ms,
                 bool crlf) {
  return crypto::hex(crypto::md5(signature_text(path, token, timestamp_ms, crlf)));
}

net::Headers signed_headers(std::string_view path, std::string_view token,
                            std::int64_t timestamp_ms, std::string_view lang) {
  return {{"token", std::string(token)},
          {"timestamp", std::to_string(timestamp_ms)},
          {"signature", sign(path, token, timestamp_ms)},
          {"lang", std::string(lang)},
          {"User-Agent",
           "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/117.0.0.0 Safari/537.36 sunbridge"}};
}

}  // namespace sb::foxess
