// GET/POST /api/v1/fleet/connections and DELETE /api/v1/fleet/connections/{name} on a fleet
// worker's router (src/cli/fleet_api.cpp).
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <string>

#include "net/http_server.hpp"
#include "store/fleet.hpp"
#include "store/store.hpp"

namespace sb::cli {

/// `fleet`, `store` and `pool` outlive the router; `key` seals what is added; `token` guards
/// the changes ("" refuses them).
void add_fleet_connection_routes(net::Router& router, store::Fleet& fleet, store::Store& store,
                                 std::string key, boost::asio::thread_pool& pool,
                                 std::string token);

}  // namespace sb::cli
