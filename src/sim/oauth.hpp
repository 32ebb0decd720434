// What the simulated OAuth 2.0 servers (FoxESS, Enphase) share: request parameters from the
// query string and a form body, client credentials from a Basic header, RFC 6749 error bodies.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>

#include "net/http.hpp"

namespace sb::sim {

/// The query parameters, with those of an `application/x-www-form-urlencoded` body over them
/// (clients send token requests either way).
std::map<std::string, std::string> oauth_params(const net::ServerRequest& req);

/// client_id and client_secret from `Authorization: Basic base64(id:secret)`; nullopt when the
/// header is missing or not Basic.
std::optional<std::pair<std::string, std::string>> basic_client(const net::ServerRequest& req);

/// The authorization page's answer: 302 to `redirect_uri` with `code` (and the request's `state`,
/// when it had one) added to its query.
net::ServerResponse code_redirect(const std::string& redirect_uri, const std::string& code,
                                  const std::map<std::string, std::string>& params);

/// An RFC 6749 §5.2 error: `{"error": code, "error_description": description}`.
net::ServerResponse oauth_error(int status, const char* code, const std::string& description);

}  // namespace sb::sim
