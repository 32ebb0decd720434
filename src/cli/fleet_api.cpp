// The fleet's connections through a worker's REST API, beside `sunbridge fleet`: list them with
// who holds each (no secret shown), add or replace them from CSV (the same columns and checks
// as `fleet import`), remove one. Changes need the API token, as commands do.
#include "cli/fleet_api.hpp"

#include <boost/json.hpp>

#include "engine/drivers.hpp"
#include "engine/fleet.hpp"
#include "net/blocking.hpp"
#include "net/json.hpp"
#include "outputs/rest/rest_api.hpp"

namespace sb::cli {

namespace json = boost::json;
using net::ServerRequest;
using net::ServerResponse;

void add_fleet_connection_routes(net::Router& router, store::Fleet& fleet, store::Store& store,
                                 std::string key, boost::asio::thread_pool& pool,
                                 std::string token) {
  using Res = boost::asio::awaitable<ServerResponse>;
  router.get("/api/v1/fleet/connections", [&fleet, &pool, key](ServerRequest&) -> Res {
    auto op = net::run_blocking(pool, [&fleet, key]() -> Result<json::array> {
      auto rows = fleet.connections();
      if (!rows) return fail(rows.error());
      auto leases = fleet.leases();
      if (!leases) return fail(leases.error());
      auto now = std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now());
      json::array out;
      for (const auto& row : *rows) {
        auto c = engine::open_connection(row, key);
        json::value holder = nullptr, left = nullptr, epoch = nullptr;
        for (const auto& l : *leases)
          if (l.connection == row.name) {
            epoch = l.epoch;
            if (l.expires_at > now) {
              holder = json::value(l.worker);
              left = static_cast<double>((l.expires_at - now).count()) / 1000;
            }
          }
        out.push_back(json::object{{"name", row.name},
                                   {"vendor", row.vendor},
                                   {"site", row.site},
                                   {"account", row.account},
                                   {"host", c ? json::value(c->host) : json::value(nullptr)},
                                   {"opens", bool(c)},
                                   {"worker", holder},
                                   {"epoch", epoch},
                                   {"lease_left_s", left}});
      }
      return out;
    });
    auto r = co_await std::move(op);
    if (!r) co_return rest::error_response(r.error());
    co_return ServerResponse::json(200, net::to_json(*r));
  });

  router.post(
      "/api/v1/fleet/connections", [&fleet, &store, &pool, key, token](ServerRequest& q) -> Res {
        if (auto no = rest::token_refusal(q, token, "changes to the fleet are disabled"))
          co_return *no;
        auto body = q.body;
        auto op = net::run_blocking(pool, [&fleet, &store, key, body]() -> Result<json::object> {
          auto in = engine::parse_fleet_csv(body, "request body", engine::builtin_drivers());
          if (!in) return fail(in.error());
          if (in->config.connections.empty())
            return fail(ErrorKind::InvalidArgument,
                        "request body: no connections (CSV with a header row)");
          for (const auto& s : in->config.sites)
            if (auto r = store.upsert_site(s); !r) return fail(r.error());
          for (const auto& c : in->config.connections) {
            auto sealed = engine::seal_connection(c, key);
            if (!sealed) return fail(sealed.error());
            auto account = in->accounts.contains(c.name) ? in->accounts.at(c.name) : "";
            if (auto r = fleet.put_connection({c.name, c.site, c.vendor, account, *sealed, {}}); !r)
              return fail(r.error());
          }
          return json::object{{"sites", in->config.sites.size()},
                              {"connections", in->config.connections.size()}};
        });
        auto r = co_await std::move(op);
        if (!r) co_return rest::error_response(r.error());
        co_return ServerResponse::json(200, net::to_json(*r));
      });

  router.add("DELETE", "/api/v1/fleet/connections/{name}",
             [&fleet, &pool, token](ServerRequest& q) -> Res {
               if (auto no = rest::token_refusal(q, token, "changes to the fleet are disabled"))
                 co_return *no;
               auto name = q.params["name"];
               auto op = net::run_blocking(
                   pool, [&fleet, name] { return fleet.remove_connection(name); });
               auto r = co_await std::move(op);
               if (!r) co_return rest::error_response(r.error());
               if (!*r)
                 co_return rest::error_response(
                     {ErrorKind::NotFound, "no connection '" + name + "' in the fleet"});
               co_return ServerResponse::json(200, net::to_json(json::object{{"removed", name}}));
             });
}

}  // namespace sb::cli
