#include "outputs/rest/fleet_sites.hpp"

#include <algorithm>
#include <boost/algorithm/string/case_conv.hpp>
#include <charconv>
#include <set>

#include "core/metric.hpp"
#include "net/blocking.hpp"
#include "net/json.hpp"
#include "outputs/rest/energy.hpp"
#include "outputs/rest/rest_api.hpp"

namespace sb::rest {

namespace json = boost::json;

namespace {

// Worse states win: a site shows its worst.
int rank(const std::string& state) {
  if (state == "unheld") return 4;
  if (state == "failing") return 3;
  if (state == "stale") return 2;
  if (state == "starting") return 1;
  return 0;
}

void worsen(std::string& state, const std::string& to) {
  if (rank(to) > rank(state)) state = to;
}

json::value opt(const std::optional<double>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}

}  // namespace

std::vector<SiteRow> site_rows(const GatewayApi& gw) {
  std::map<std::string, SiteRow> by_site;
  for (const auto& s : gw.sites()) by_site[s.id].site = s;
  std::map<std::string, std::set<std::string>> workers;
  for (const auto& h : gw.health()) {
    auto it = by_site.find(h.site);
    if (it == by_site.end()) continue;
    auto& r = it->second;
    ++r.connections;
    if (h.state == "needs_credentials")
      worsen(r.state, "failing");
    else if (h.state != "ok")
      worsen(r.state, h.state);
    if (h.state != "ok") ++r.alarms;
    if (!h.worker.empty()) workers[h.site].insert(h.worker);
  }
  for (const auto& l : gw.live()) {
    auto it = by_site.find(l.device.site);
    if (it == by_site.end()) continue;
    auto& r = it->second;
    ++r.devices;
    r.device_list.push_back(l.device);
    if (!l.online) {
      ++r.devices_offline;
      ++r.alarms;
      worsen(r.state, "stale");
      continue;
    }
    if (l.stale) {
      ++r.devices_stale;
      ++r.alarms;
      worsen(r.state, "stale");
    }
    for (const auto& v : l.values) {
      auto add = [&](std::optional<double>& to) { to = to.value_or(0) + v.value; };
      if (v.metric == metric::kPvPower) add(r.pv_w);
      if (v.metric == metric::kBatteryPower) add(r.battery_w);
      if (v.metric == metric::kGridPower) add(r.grid_w);
      if (v.metric == metric::kBatterySoc) r.soc = v.value;  // one battery a site, mostly
    }
  }
  std::vector<SiteRow> out;
  for (auto& [id, r] : by_site) {
    r.workers.assign(workers[id].begin(), workers[id].end());
    out.push_back(std::move(r));
  }
  return out;
}

Result<FleetQuery> fleet_query(const std::map<std::string, std::string>& params) {
  FleetQuery q;
  auto get = [&](const char* k) -> std::string {
    auto it = params.find(k);
    return it == params.end() ? std::string() : it->second;
  };
  q.text = boost::algorithm::to_lower_copy(get("q"));
  q.state = get("state");
  if (!q.state.empty() && q.state != "ok" && q.state != "stale" && q.state != "failing" &&
      q.state != "unheld" && q.state != "starting")
    return fail(ErrorKind::InvalidArgument, "query parameter 'state' = '" + q.state +
                                                "' must be ok, starting, stale, failing or unheld");
  if (auto s = get("sort"); !s.empty()) {
    static const std::set<std::string> keys{"site",    "name", "state", "pv",
                                            "battery", "soc",  "alarms"};
    if (!keys.contains(s))
      return fail(ErrorKind::InvalidArgument,
                  "query parameter 'sort' = '" + s +
                      "' must be site, name, state, pv, battery, soc or alarms");
    q.sort = s;
  }
  if (auto o = get("order"); !o.empty()) {
    if (o != "asc" && o != "desc")
      return fail(ErrorKind::InvalidArgument,
                  "query parameter 'order' = '" + o + "' must be asc or desc");
    q.descending = o == "desc";
  }
  auto number = [&](const char* k, std::size_t lo, std::size_t hi,
                    std::size_t& to) -> Result<void> {
    auto s = get(k);
    if (s.empty()) return {};
    std::size_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || v < lo || v > hi)
      return fail(ErrorKind::InvalidArgument, "query parameter '" + std::string(k) + "' = '" + s +
                                                  "' must be a whole number from " +
                                                  std::to_string(lo) + " to " + std::to_string(hi));
    to = v;
    return {};
  };
  if (auto r = number("offset", 0, 10'000'000, q.offset); !r) return fail(r.error());
  if (auto r = number("limit", 1, 500, q.limit); !r) return fail(r.error());
  return q;
}

FleetPage fleet_page(std::vector<SiteRow> all, const FleetQuery& q) {
  FleetPage page;
  for (const auto& r : all) ++page.states[r.state];
  std::erase_if(all, [&](const SiteRow& r) {
    if (!q.state.empty() && r.state != q.state) return true;
    return !q.text.empty() &&
           boost::algorithm::to_lower_copy(r.site.id).find(q.text) == std::string::npos &&
           boost::algorithm::to_lower_copy(r.site.name).find(q.text) == std::string::npos;
  });
  page.total = all.size();
  // Sites without the value sort last whichever the order; the site's id breaks ties.
  auto number = [&](const SiteRow& r) -> std::optional<double> {
    if (q.sort == "pv") return r.pv_w;
    if (q.sort == "battery") return r.battery_w;
    if (q.sort == "soc") return r.soc;
    if (q.sort == "alarms") return r.alarms;
    if (q.sort == "state") return rank(r.state);
    return std::nullopt;
  };
  std::stable_sort(all.begin(), all.end(), [&](const SiteRow& a, const SiteRow& b) {
    if (q.sort == "site" || q.sort == "name") {
      const auto& x = q.sort == "site" ? a.site.id : a.site.name;
      const auto& y = q.sort == "site" ? b.site.id : b.site.name;
      if (x != y) return q.descending ? y < x : x < y;
      return a.site.id < b.site.id;
    }
    auto x = number(a), y = number(b);
    if (x.has_value() != y.has_value()) return x.has_value();
    if (x && *x != *y) return q.descending ? *y < *x : *x < *y;
    return a.site.id < b.site.id;
  });
  auto from = std::min(q.offset, all.size());
  auto to = std::min(all.size(), from + q.limit);
  page.rows.assign(std::make_move_iterator(all.begin() + static_cast<std::ptrdiff_t>(from)),
                   std::make_move_iterator(all.begin() + static_cast<std::ptrdiff_t>(to)));
  return page;
}

std::vector<json::value> TodayEnergy::of(store::Store& store, const std::vector<SiteRow>& rows,
                                         TimePoint now) {
  std::vector<json::value> today;
  for (const auto& r : rows) {
    {
      std::lock_guard lock(mutex_);
      auto it = by_site_.find(r.site.id);
      if (it != by_site_.end() && now >= it->second.first &&
          now - it->second.first < std::chrono::minutes(1)) {
        today.push_back(it->second.second);
        continue;
      }
    }
    auto e = site_energy(store, r.site, r.device_list, EnergyPeriod::Day, now, now);
    const json::array* list = e ? e->at("rows").if_array() : nullptr;
    today.push_back(list && !list->empty() ? list->front() : json::value(nullptr));
    std::lock_guard lock(mutex_);
    if (by_site_.size() > 20'000) by_site_.clear();  // sites come and go; bounded
    by_site_[r.site.id] = {now, today.back()};
  }
  return today;
}

void add_fleet_routes(net::Router& router, GatewayApi& gw, store::Store& store,
                      boost::asio::thread_pool& pool, const Clock& clock) {
  auto today_energy = std::make_shared<TodayEnergy>();
  // Every site's state now, filtered, sorted and paged; the page's sites with their energy
  // today (store reads, for those rows only).
  router.get("/api/v1/fleet/sites",
             [&gw, &store, &pool, &clock,
              today_energy](net::ServerRequest& q) -> boost::asio::awaitable<net::ServerResponse> {
               auto query = fleet_query(q.query);
               if (!query) co_return error_response(query.error());
               auto page = fleet_page(site_rows(gw), *query);
               auto op = net::run_blocking(
                   pool, [&store, today_energy, rows = page.rows, now = clock.now()] {
                     return today_energy->of(store, rows, now);
                   });
               auto today = co_await std::move(op);
               json::array sites;
               for (std::size_t i = 0; i < page.rows.size(); ++i)
                 sites.push_back(site_row_json(page.rows[i], today[i]));
               json::object states;
               for (const auto& kv : page.states) states[kv.first] = kv.second;
               co_return net::ServerResponse::json(
                   200, net::to_json(json::object{{"total", page.total},
                                                  {"offset", query->offset},
                                                  {"limit", query->limit},
                                                  {"states", std::move(states)},
                                                  {"sites", std::move(sites)}}));
             });
}

json::object site_row_json(const SiteRow& r, const json::value& today) {
  json::array workers;
  for (const auto& w : r.workers) workers.push_back(json::value(w));
  return {{"site", r.site.id},
          {"name", r.site.name},
          {"timezone", r.site.timezone},
          {"state", r.state},
          {"connections", r.connections},
          {"devices", r.devices},
          {"devices_offline", r.devices_offline},
          {"devices_stale", r.devices_stale},
          {"alarms", r.alarms},
          {"pv_w", opt(r.pv_w)},
          {"battery_w", opt(r.battery_w)},
          {"grid_w", opt(r.grid_w)},
          {"soc", opt(r.soc)},
          {"workers", std::move(workers)},
          {"today", today}};
}

}  // namespace sb::rest
