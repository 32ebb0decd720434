// A cloud's OAuth 2.0 authorization-code sign-in, as `sunbridge auth VENDOR` runs it: the
// vendor's driver part says where the app's credentials are in a connection, how its authorize
// address is built and how a code is traded for tokens; the command does the rest (loopback
// redirect, state check, token file) the same way for every cloud.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string>

#include "core/clock.hpp"
#include "core/driver.hpp"
#include "core/result.hpp"
#include "net/http.hpp"
#include "net/token_file.hpp"

namespace sb::net {

class HttpClient;

/// One connection's app and cloud.
struct OAuthSignIn {
  std::string client_id, client_secret, token_file;
  Endpoint cloud;
};

struct OAuthApp {
  std::string label;   ///< the cloud in messages: "FoxESS"
  std::string portal;  ///< where the owner signs in: "FoxESS Cloud"
  /// The connection's app and cloud; an InvalidArgument naming what the connection lacks.
  std::function<Result<OAuthSignIn>(const ConnectionConfig&)> sign_in;
  /// The address the owner opens to allow the app.
  std::function<std::string(const OAuthSignIn&, const std::string& redirect_uri,
                            const std::string& scope, const std::string& state)>
      authorize_url;
  /// Trades the code the redirect carried for tokens.
  std::function<boost::asio::awaitable<Result<OAuthTokens>>(
      HttpClient&, OAuthSignIn, std::string code, std::string redirect_uri, Millis timeout)>
      exchange_code;
};

}  // namespace sb::net
