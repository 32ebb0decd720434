// The fleet page's rows: every site with its state now (worst of its connections and devices),
// PV, battery and grid power, state of charge, open alarms (connections not ok, devices offline
// or stale) and the workers polling it; filtered, sorted and paged, so that a page of a fleet of
// 10,000 sites is a small answer. GET /api/v1/fleet/sites.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <boost/json/object.hpp>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/gateway_api.hpp"
#include "core/result.hpp"
#include "net/http_server.hpp"
#include "store/store.hpp"

namespace sb::rest {

struct SiteRow {
  Site site;
  /// "ok"; "stale" (a device answers with old values or not at all); "failing" (a connection
  /// fails or needs credentials); "unheld" (a fleet connection no worker holds); "starting".
  std::string state = "ok";
  int connections = 0, devices = 0, devices_offline = 0, devices_stale = 0;
  int alarms = 0;  ///< connections not ok + devices offline or stale
  std::optional<double> pv_w, battery_w, grid_w, soc;
  std::vector<std::string> workers;  ///< the fleet workers polling its connections
  std::vector<DeviceInfo> device_list;
};

/// One row per site the gateway knows, from its live values and health.
std::vector<SiteRow> site_rows(const GatewayApi& gw);

struct FleetQuery {
  std::string text;           ///< part of the site's id or name (any case); "" all
  std::string state;          ///< only this state; "" all
  std::string sort = "site";  ///< site, name, state, pv, battery, soc, alarms
  bool descending = false;
  std::size_t offset = 0, limit = 50;
};

/// Reads ?q=&state=&sort=&order=&offset=&limit= (limit 1..500); the error names the parameter.
Result<FleetQuery> fleet_query(const std::map<std::string, std::string>& params);

/// The rows that match, sorted, and the page asked for.
struct FleetPage {
  std::size_t total = 0;                      ///< rows that match
  std::map<std::string, std::size_t> states;  ///< every site by state (the fleet's summary)
  std::vector<SiteRow> rows;
};
FleetPage fleet_page(std::vector<SiteRow> all, const FleetQuery& q);

/// Each row's site's energy today (site_energy's row, or null), read again after a minute at
/// most: the page refreshes every few seconds, and the counters' reads are most of what a page
/// costs. Blocking (store reads); thread-safe.
class TodayEnergy {
 public:
  std::vector<boost::json::value> of(store::Store& store, const std::vector<SiteRow>& rows,
                                     TimePoint now);

 private:
  std::mutex mutex_;
  std::map<std::string, std::pair<TimePoint, boost::json::value>> by_site_;
};

/// GET /api/v1/fleet/sites on `router` (make_router's other arguments).
void add_fleet_routes(net::Router& router, GatewayApi& gw, store::Store& store,
                      boost::asio::thread_pool& pool, const Clock& clock);

/// A row as the API gives it; `today` the site's energy today (site_energy's first row) or null.
boost::json::object site_row_json(const SiteRow& r, const boost::json::value& today);

}  // namespace sb::rest
