#include "sim/oauth.hpp"

#include <boost/json.hpp>
#include <boost/url/parse_query.hpp>

#include "net/crypto.hpp"
#include "net/json.hpp"

namespace sb::sim {

std::map<std::string, std::string> oauth_params(const net::ServerRequest& req) {
  auto out = req.query;
  if (req.header("Content-Type").starts_with("application/x-www-form-urlencoded")) {
    auto parsed = boost::urls::parse_query(req.body);
    if (parsed)
      for (auto p : *parsed) {
        std::string key, value;
        p.key.decode({}, boost::urls::string_token::assign_to(key));
        p.value.decode({}, boost::urls::string_token::assign_to(value));
        out[key] = value;
      }
  }
  return out;
}

std::optional<std::pair<std::string, std::string>> basic_client(const net::ServerRequest& req) {
  auto h = req.header("Authorization");
  if (!h.starts_with("Basic ")) return std::nullopt;
  auto decoded = crypto::base64_decode(h.substr(6));
  if (!decoded) return std::nullopt;
  auto colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::make_pair(decoded->substr(0, colon), decoded->substr(colon + 1));
}

net::ServerResponse code_redirect(const std::string& uri, const std::string& code,
                                  const std::map<std::string, std::string>& params) {
  auto location =
      uri + (uri.find('?') == std::string::npos ? "?" : "&") + "code=" + net::url_encode(code);
  if (auto it = params.find("state"); it != params.end())
    location += "&state=" + net::url_encode(it->second);
  auto res = net::ServerResponse::text(302, "", "text/html");
  res.headers.emplace_back("Location", location);
  return res;
}

net::ServerResponse oauth_error(int status, const char* code, const std::string& description) {
  return net::ServerResponse::json(
      status,
      net::to_json(boost::json::object{{"error", code}, {"error_description", description}}));
}

}  // namespace sb::sim
