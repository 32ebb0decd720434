// Our REST API (JSON) and the dashboard's static files. docs/rest-api.md describes every route.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <optional>
#include <string>

#include "core/clock.hpp"
#include "core/gateway_api.hpp"
#include "net/http_server.hpp"
#include "outputs/prometheus/exposition.hpp"
#include "store/store.hpp"

namespace sb::rest {

struct RestOptions {
  std::string api_token;  ///< bearer token for POST routes; empty: commands are refused (403)
  bool dashboard = true;  ///< serve web/ at /
  prometheus::Detail metrics = prometheus::Detail::Auto;  ///< how much /metrics says
};

/// The router for the gateway's HTTP server. `gateway`, `store`, `pool` and `clock` must
/// outlive it; store calls run on `pool`.
std::shared_ptr<net::Router> make_router(GatewayApi& gateway, store::Store& store,
                                         boost::asio::thread_pool& pool, const Clock& clock,
                                         RestOptions options);

/// {"error": {"kind", "message"}} with the kind's status (http_status).
net::ServerResponse error_response(const Error& e);

/// The check of the routes that change things: nullopt when `request` carries the bearer
/// `token` (compared in constant time); else 403 "<disabled>: set gateway.api_token …" when no
/// token is configured, or 401 with WWW-Authenticate.
std::optional<net::ServerResponse> token_refusal(const net::ServerRequest& request,
                                                 const std::string& token,
                                                 const std::string& disabled);

/// HTTP status for an error kind (400 invalid, 404, 409 conflict, 422 not supported, 502
/// device failure, 504 device timeout, ...).
int http_status(ErrorKind kind);

}  // namespace sb::rest
