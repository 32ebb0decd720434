#include "outputs/rest/rest_api.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <set>

#include "core/commands.hpp"
#include "core/embedded.hpp"
#include "core/metric.hpp"
#include "net/blocking.hpp"
#include "net/gzip.hpp"
#include "net/json.hpp"
#include "outputs/prometheus/exposition.hpp"
#include "outputs/rest/energy.hpp"
#include "outputs/rest/fleet_sites.hpp"
#include "outputs/rest/site_series.hpp"

extern const sb::EmbeddedFile sb_web_assets[];
extern const std::size_t sb_web_assets_count;

namespace sb::rest {

namespace asio = boost::asio;
namespace json = boost::json;
using net::ServerRequest;
using net::ServerResponse;

int http_status(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::InvalidArgument:
      return 400;
    case ErrorKind::Auth:
      return 401;
    case ErrorKind::NotFound:
      return 404;
    case ErrorKind::Conflict:
      return 409;
    case ErrorKind::NotSupported:
      return 422;
    case ErrorKind::RateLimited:
      return 429;
    case ErrorKind::Timeout:
      return 504;
    case ErrorKind::Transport:
    case ErrorKind::Protocol:
    case ErrorKind::Vendor:
      return 502;
    case ErrorKind::Internal:
      return 500;
  }
  return 500;
}

ServerResponse error_response(const Error& e) {
  json::object o{{"error", json::object{{"kind", to_string(e.kind)}, {"message", e.message}}}};
  return ServerResponse::json(http_status(e.kind), net::to_json(o));
}

namespace {

ServerResponse error_response(ErrorKind kind, std::string message) {
  return rest::error_response(Error{kind, std::move(message)});
}
ServerResponse ok(const json::value& v) {
  return ServerResponse::json(200, net::to_json(v));
}

json::value opt_time(const std::optional<TimePoint>& t) {
  return t ? json::value(format_iso8601(*t)) : json::value(nullptr);
}
json::value opt_num(const std::optional<double>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}

json::object site_json(const Site& s) {
  json::array pv;
  for (const auto& a : s.pv)
    pv.push_back(json::object{
        {"peak_w", a.peak_w}, {"azimuth_deg", a.azimuth_deg}, {"tilt_deg", a.tilt_deg}});
  return {{"id", s.id},
          {"name", s.name},
          {"latitude", s.latitude},
          {"longitude", s.longitude},
          {"timezone", s.timezone},
          {"pv", std::move(pv)},
          {"pv_low_share", s.pv_low_share}};
}

// The device's commands, each as the catalogue describes it (core/commands.hpp) with this
// device's limits: what a client needs to build its form or validate before sending.
json::object caps_json(const Capabilities& c) {
  json::array commands;
  for (const auto& spec : command_catalogue()) {
    const auto* l = c.command(spec.type);
    if (!l) continue;
    json::object o{{"name", spec.name},
                   {"title", spec.title},
                   {"kind", to_string(spec.kind)},
                   {"widget", to_string(spec.widget)},
                   {"holds", can_hold(spec, c)}};
    if (spec.kind == ArgumentKind::Number) {
      o["unit"] = spec.unit;
      o["min"] = l->low;
      o["max"] = l->high;
      o["step"] = spec.step;
      o["start"] = form_start_value(spec, *l);
    }
    if (!l->choices.empty()) {
      json::array choices;
      for (const auto& v : l->choices) choices.push_back(json::value(v));
      o["choices"] = std::move(choices);
    }
    if (spec.kind == ArgumentKind::Text) {
      o["hint"] = form_hint(spec, *l);
      if (l->count > 0) o["count"] = l->count;
      if (l->high > 0) o["max_power_w"] = l->high;
    }
    commands.push_back(std::move(o));
  }
  json::array metrics;
  for (const auto& m : c.metrics) metrics.push_back(json::value(m));
  return {{"live", c.live},
          {"history", c.history},
          {"commands", std::move(commands)},
          {"metrics", std::move(metrics)}};
}

json::object device_json(const DeviceInfo& d, const std::optional<Capabilities>& caps) {
  json::object o{{"id", d.id},         {"site", d.site},     {"connection", d.connection},
                 {"vendor", d.vendor}, {"kind", d.kind},     {"manufacturer", d.manufacturer},
                 {"model", d.model},   {"serial", d.serial}, {"firmware", d.firmware}};
  if (caps) o["capabilities"] = caps_json(*caps);
  return o;
}

json::object gap_json(const Gap& g) {
  auto progress = backfill_progress(g);
  return {{"id", g.id},
          {"device", g.device},
          {"metric", g.metric.empty() ? json::value(nullptr) : json::value(g.metric)},
          {"from", format_iso8601(g.from)},
          {"to", format_iso8601(g.to)},
          {"seconds", std::chrono::duration_cast<std::chrono::seconds>(g.to - g.from).count()},
          {"reason", g.reason},
          {"status", g.status},
          {"detail", g.detail},
          {"samples", g.filled},
          {"attempts", g.attempts},
          {"next_attempt", opt_time(g.next_attempt)},
          {"done_until", format_iso8601(std::clamp(g.done_until, g.from, g.to))},
          {"progress", std::round(progress.done * 1000) / 1000},
          {"pace", progress.pace ? json::value(std::round(*progress.pace * 10) / 10)
                                 : json::value(nullptr)},
          {"estimated_end", opt_time(progress.estimated_end)},
          {"parent", g.parent ? json::value(g.parent) : json::value(nullptr)},
          {"detected_at", format_iso8601(g.detected_at)}};
}

json::object live_json(const DeviceLive& l) {
  json::object values;
  for (const auto& v : l.values) {
    const auto* def = metric_def(v.metric);
    values[v.metric.view()] = json::object{{"value", v.value},
                                           {"unit", def ? unit_symbol(def->unit) : ""},
                                           {"time", format_iso8601(v.time)},
                                           {"quality", to_string(v.quality)}};
  }
  return {{"device", l.device.id},
          {"site", l.device.site},
          {"online", l.online},
          {"stale", l.stale},
          {"last_success", opt_time(l.last_success)},
          {"values", std::move(values)}};
}

json::object command_json(const CommandRecord& c) {
  return {{"id", c.id},
          {"requested_at", format_iso8601(c.requested_at)},
          {"finished_at", opt_time(c.finished_at)},
          {"requested_by", c.requested_by},
          {"device", c.device},
          {"command", to_string(c.type)},
          {"value", c.value},
          {"argument", c.argument},
          {"duration_s", c.duration_s ? json::value(*c.duration_s) : json::value(nullptr)},
          {"status", c.status},
          {"before", opt_num(c.before)},
          {"after", opt_num(c.after)},
          {"detail", c.detail}};
}

json::object event_json(const Event& e) {
  return {{"device", e.device},
          {"time", format_iso8601(e.time)},
          {"severity", to_string(e.severity)},
          {"code", e.code},
          {"message", e.message}};
}

// Query parameter helpers: errors name the parameter.
Result<std::optional<TimePoint>> time_param(const ServerRequest& r, const std::string& key) {
  auto it = r.query.find(key);
  if (it == r.query.end() || it->second.empty()) return std::optional<TimePoint>{};
  TimePoint t;
  if (!parse_iso8601(it->second, t))
    return fail(ErrorKind::InvalidArgument, "query parameter '" + key + "' = '" + it->second +
                                                "' is not a time (RFC 3339 with a zone, e.g. "
                                                "2026-11-21T10:00:00Z, a date, or epoch ms)");
  return std::optional<TimePoint>{t};
}

Result<std::optional<std::int64_t>> int_param(const ServerRequest& r, const std::string& key,
                                              std::int64_t lo, std::int64_t hi) {
  auto it = r.query.find(key);
  if (it == r.query.end() || it->second.empty()) return std::optional<std::int64_t>{};
  std::int64_t v = 0;
  const auto& s = it->second;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < lo || v > hi)
    return fail(ErrorKind::InvalidArgument, "query parameter '" + key + "' = '" + s +
                                                "' must be a whole number from " +
                                                std::to_string(lo) + " to " + std::to_string(hi));
  return std::optional<std::int64_t>{v};
}

// ?device=, ?from=, ?to=, ?limit= of the list calls (events, gaps): the first bad one's error.
struct ListParams {
  std::optional<std::string> device;
  std::optional<TimeRange> range;  ///< when from or to is given; the other end open
  std::size_t limit = 0;
};
Result<ListParams> list_params(const ServerRequest& q, std::size_t default_limit) {
  auto from = time_param(q, "from");
  if (!from) return fail(from.error());
  auto to = time_param(q, "to");
  if (!to) return fail(to.error());
  auto limit = int_param(q, "limit", 1, 10'000);
  if (!limit) return fail(limit.error());
  ListParams p;
  if (auto it = q.query.find("device"); it != q.query.end() && !it->second.empty())
    p.device = it->second;
  if (*from || *to)
    p.range = TimeRange{from->value_or(from_ms(0)), to->value_or(from_ms(INT64_MAX / 2))};
  p.limit = limit->value_or(static_cast<std::int64_t>(default_limit));
  return p;
}

Result<std::optional<Millis>> step_param(const ServerRequest& r) {
  auto it = r.query.find("step");
  if (it == r.query.end() || it->second.empty()) return std::optional<Millis>{};
  auto d = parse_duration(it->second);
  if (!d || d->count() < 1000)
    return fail(ErrorKind::InvalidArgument,
                "query parameter 'step' = '" + it->second +
                    "' must be a duration of at least 1s (e.g. 60s, 5m, 1h)");
  return std::optional<Millis>{*d};
}

// The site with that id, or NotFound naming the known ones.
Result<Site> find_site(const GatewayApi& gw, const std::string& id) {
  std::string known;
  for (const auto& s : gw.sites()) {
    if (s.id == id) return s;
    known += (known.empty() ? "" : ", ") + s.id;
  }
  return fail(ErrorKind::NotFound, "unknown site '" + id + "' (known: " + known + ")");
}

// ?site=ID: the site's devices, and the site itself for its own events ("site:ID"); empty
// without the parameter; NotFound naming the known sites for an unknown one.
Result<std::vector<std::string>> site_devices(const GatewayApi& gw, const ServerRequest& q) {
  auto it = q.query.find("site");
  if (it == q.query.end() || it->second.empty()) return std::vector<std::string>{};
  if (auto site = find_site(gw, it->second); !site) return fail(site.error());
  std::vector<std::string> out{"site:" + it->second};
  for (const auto& d : gw.devices())
    if (d.site == it->second) out.push_back(d.id);
  return out;
}

// A site's route with ?from=, ?to= and ?step=: the site and what was given, or the first error.
struct SiteRange {
  Site site;
  std::optional<TimePoint> from, to;
  std::optional<Millis> step;
};
Result<SiteRange> site_range(const GatewayApi& gw, const ServerRequest& q) {
  auto site = find_site(gw, q.params.at("id"));
  if (!site) return fail(site.error());
  auto from = time_param(q, "from");
  if (!from) return fail(from.error());
  auto to = time_param(q, "to");
  if (!to) return fail(to.error());
  auto step = step_param(q);
  if (!step) return fail(step.error());
  return SiteRange{std::move(*site), *from, *to, *step};
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string_view content_type_for(std::string_view path) {
  if (path.ends_with(".html")) return "text/html; charset=utf-8";
  if (path.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (path.ends_with(".css")) return "text/css; charset=utf-8";
  if (path.ends_with(".svg")) return "image/svg+xml";
  if (path.ends_with(".png")) return "image/png";
  if (path.ends_with(".json")) return "application/json";
  return "application/octet-stream";
}

const EmbeddedFile* find_asset(std::string_view path) {
  for (std::size_t i = 0; i < sb_web_assets_count; ++i)
    if (sb_web_assets[i].path == path) return &sb_web_assets[i];
  return nullptr;
}

ServerResponse asset(std::string_view path) {
  const auto* f = find_asset(path);
  if (!f) return error_response(ErrorKind::NotFound, "no file " + std::string(path));
  auto res = ServerResponse::text(200, std::string(f->data), std::string(content_type_for(path)));
  res.headers.emplace_back("Cache-Control", "no-cache");
  return res;
}

}  // namespace

std::optional<ServerResponse> token_refusal(const ServerRequest& q, const std::string& token,
                                            const std::string& disabled) {
  if (token.empty())
    return ServerResponse::json(
        403, net::to_json(json::object{
                 {"error", json::object{{"kind", "forbidden"},
                                        {"message", disabled + ": set gateway.api_token in the "
                                                               "configuration"}}}}));
  auto auth = q.header("Authorization");
  if (auth.starts_with("Bearer ") && constant_time_equal(auth.substr(7), token))
    return std::nullopt;
  auto res = error_response(ErrorKind::Auth,
                            "missing or wrong bearer token (header Authorization: Bearer <token>)");
  res.headers.emplace_back("WWW-Authenticate", "Bearer");
  return res;
}

std::shared_ptr<net::Router> make_router(GatewayApi& gw, store::Store& store,
                                         asio::thread_pool& pool, const Clock& clock,
                                         RestOptions options) {
  auto r = std::make_shared<net::Router>();
  using Req = ServerRequest&;
  using Res = asio::awaitable<ServerResponse>;

  // A gateway of 50,000 connections answers 20 MB with every one listed: ?state= lists only
  // connections in those states (failing,needs_credentials: what needs a look), ?limit= at
  // most that many connections and sites. connection_states and connections_total count
  // every connection whatever is listed.
  r->get("/api/v1/health", [&gw, &store, &clock](Req q) -> Res {
    std::set<std::string, std::less<>> wanted;
    if (auto it = q.query.find("state"); it != q.query.end() && !it->second.empty()) {
      auto states = split_choices(it->second, kConnectionStates);
      if (!states)
        co_return error_response(ErrorKind::InvalidArgument, "query parameter 'state': '" +
                                                                 states.error() +
                                                                 "' is not a connection state (" +
                                                                 joined(kConnectionStates) + ")");
      wanted.insert(states->begin(), states->end());
    }
    auto limit = int_param(q, "limit", 0, 10'000'000);
    if (!limit) co_return error_response(limit.error());
    const auto cap = static_cast<std::size_t>(limit->value_or(INT64_MAX));
    json::array conns;
    json::object states;
    for (auto st : kConnectionStates) states[st] = 0;
    bool all_ok = true, truncated = false;
    std::int64_t rounds_planned = 0, polls_late = 0, polls = 0, total = 0;
    for (const auto& h : gw.health()) {
      all_ok &= h.state == "ok";
      rounds_planned += h.rounds_planned;
      polls_late += h.polls_late;
      polls += h.polls;
      ++total;
      auto& count = states[h.state];  // a state this list does not know counts too
      count = (count.is_int64() ? count.get_int64() : 0) + 1;
      if (!wanted.empty() && !wanted.contains(h.state)) continue;
      if (conns.size() >= cap) {
        truncated = true;
        continue;
      }
      json::value budget = nullptr;
      if (h.budget)
        budget = json::object{{"used", h.budget->used},
                              {"limit", h.budget->limit},
                              {"remaining", std::max(0, h.budget->limit - h.budget->used)},
                              {"resets_at", format_iso8601(h.budget->resets_at)}};
      conns.push_back(
          json::object{{"budget", std::move(budget)},
                       {"name", h.name},
                       {"site", h.site},
                       {"vendor", h.vendor},
                       {"state", h.state},
                       {"worker", h.worker.empty() ? json::value(nullptr) : json::value(h.worker)},
                       {"last_success", opt_time(h.last_success)},
                       {"last_error", h.last_error},
                       {"polls", h.polls},
                       {"failures", h.failures},
                       {"consecutive_failures", h.consecutive_failures},
                       {"last_latency_ms", h.last_latency_ms},
                       {"polls_late", h.polls_late},
                       {"implausible_values", h.implausible_values},
                       {"gaps", json::object{{"found", h.gaps_found},
                                             {"open", h.gaps_open},
                                             {"unfilled", h.gaps_unfilled},
                                             {"samples_backfilled", h.samples_backfilled},
                                             {"samples_estimated", h.samples_estimated}}}});
    }
    json::array sites;
    for (const auto& q : gw.quality()) {
      if (sites.size() >= cap) {
        truncated = true;
        break;
      }
      sites.push_back(
          json::object{{"site", q.site},
                       {"energy_balance", json::object{{"checks", q.balance_checks},
                                                       {"flagged", q.balance_flagged},
                                                       {"uncheckable", q.balance_uncheckable},
                                                       {"last_window", opt_time(q.last_window)},
                                                       {"last_in_wh", q.last_in_wh},
                                                       {"last_out_wh", q.last_out_wh},
                                                       {"last_residual_wh", q.last_residual_wh},
                                                       {"last_flagged", q.last_flagged},
                                                       {"last_result", q.last_result}}}});
    }
    auto st = store.stats();
    all_ok &= st.last_error.empty();
    json::object o{{"status", all_ok ? "ok" : "degraded"},
                   {"version", SUNBRIDGE_VERSION},
                   {"time", format_iso8601(clock.now())},
                   {"connections", std::move(conns)},
                   {"connections_total", total},
                   {"connection_states", std::move(states)},
                   {"truncated", truncated},
                   {"schedule", json::object{{"rounds_planned", rounds_planned},
                                             {"polls", polls},
                                             {"polls_late", polls_late}}},
                   {"sites", std::move(sites)},
                   {"store", json::object{{"samples_written", st.samples_written},
                                          {"samples_dropped", st.samples_dropped},
                                          {"queue_depth", st.queue_depth},
                                          {"busy_retries", st.busy_retries},
                                          {"database_bytes", st.database_bytes},
                                          {"disk_free_bytes", st.disk_free_bytes},
                                          {"disk_total_bytes", st.disk_total_bytes},
                                          {"pruned_rows", st.pruned_rows},
                                          {"last_error", st.last_error}}}};
    co_return ok(o);
  });

  r->get("/api/v1/sites", [&gw](Req) -> Res {
    json::array a;
    for (const auto& s : gw.sites()) a.push_back(site_json(s));
    co_return ok(a);
  });

  r->get("/api/v1/sites/{id}/energy", [&gw, &store, &pool, &clock](Req q) -> Res {
    auto site = find_site(gw, q.params["id"]);
    if (!site) co_return error_response(site.error());
    auto period = q.query.contains("period") ? q.query["period"] : std::string("day");
    if (period != "day" && period != "month" && period != "year")
      co_return error_response(ErrorKind::InvalidArgument, "query parameter 'period' = '" + period +
                                                               "' must be day, month or year");
    auto from = time_param(q, "from");
    auto to = time_param(q, "to");
    for (const Error* e : {from ? nullptr : &from.error(), to ? nullptr : &to.error()})
      if (e) co_return error_response(*e);
    TimePoint t1 = to->value_or(clock.now());
    // The last 7 days, 12 months or 5 years by default.
    const int back_days = period == "day" ? 6 : period == "month" ? 334 : 4 * 365;
    TimePoint t0 = from->value_or(t1 - std::chrono::hours(24 * back_days));
    if (t0 > t1)
      co_return error_response(ErrorKind::InvalidArgument, "'from' must not be after 'to'");
    auto p = period == "day"     ? EnergyPeriod::Day
             : period == "month" ? EnergyPeriod::Month
                                 : EnergyPeriod::Year;
    auto devices = gw.devices();
    auto op = net::run_blocking(pool, [&store, site = *site, devices, p, t0, t1] {
      return site_energy(store, site, devices, p, t0, t1);
    });
    auto e = co_await std::move(op);
    if (!e) co_return error_response(e.error());
    co_return ok(*e);
  });

  // The site's power flows summed over its devices, in buckets on the site's whole minutes,
  // hours and days: ?from= (default: the site's midnight), ?to= (now), ?step= (default: a round
  // step giving at most 500 buckets).
  r->get("/api/v1/sites/{id}/power", [&gw, &store, &pool, &clock](Req q) -> Res {
    auto p = site_range(gw, q);
    if (!p) co_return error_response(p.error());
    const auto& site = p->site;
    TimePoint t1 = p->to.value_or(clock.now());
    TimePoint t0;
    if (p->from) {
      t0 = *p->from;
    } else {
      auto midnight = bucket_start(site.timezone, t1 - Millis(1), std::chrono::hours(24));
      if (!midnight) co_return error_response(midnight.error());
      t0 = *midnight;
    }
    if (t0 >= t1)
      co_return error_response(ErrorKind::InvalidArgument, "'from' must be before 'to'");
    Millis width = p->step.value_or(round_step(t1 - t0, 500));
    auto devices = gw.devices();
    auto op = net::run_blocking(pool, [&store, site, devices, t0, t1, width] {
      return site_power(store, site, devices, t0, t1, width);
    });
    auto power = co_await std::move(op);
    if (!power) co_return error_response(power.error());
    co_return ok(*power);
  });

  // Every metric of the site's devices as CSV, one column each: ?from=, ?to= (default the last
  // 24 hours), ?step= (absent: raw samples, up to 7 days).
  r->get("/api/v1/sites/{id}/export", [&gw, &store, &pool, &clock](Req q) -> Res {
    auto p = site_range(gw, q);
    if (!p) co_return error_response(p.error());
    const auto& site = p->site;
    if (auto it = q.query.find("format"); it != q.query.end() && it->second != "csv")
      co_return error_response(ErrorKind::InvalidArgument,
                               "query parameter 'format' = '" + it->second + "' must be csv");
    TimePoint t1 = p->to.value_or(clock.now());
    TimePoint t0 = p->from.value_or(t1 - std::chrono::hours(24));
    auto devices = gw.devices();
    auto op = net::run_blocking(pool, [&store, site, devices, t0, t1, s = p->step] {
      return site_csv(store, site, devices, t0, t1, s);
    });
    auto csv = co_await std::move(op);
    if (!csv) co_return error_response(csv.error());
    auto res = ServerResponse::text(200, std::move(*csv), "text/csv; charset=utf-8");
    auto day = [](TimePoint t) { return format_iso8601(t).substr(0, 10); };
    res.headers.emplace_back("Content-Disposition", "attachment; filename=\"sunbridge-" + site.id +
                                                        "-" + day(t0) + "-" + day(t1) + ".csv\"");
    co_return res;
  });

  add_fleet_routes(*r, gw, store, pool, clock);

  r->get("/api/v1/devices", [&gw](Req) -> Res {
    json::array a;
    for (const auto& d : gw.devices()) a.push_back(device_json(d, gw.capabilities(d.id)));
    co_return ok(a);
  });

  r->get("/api/v1/devices/{id}", [&gw](Req q) -> Res {
    auto d = gw.device(q.params["id"]);
    if (!d)
      co_return error_response(ErrorKind::NotFound, "unknown device '" + q.params["id"] + "'");
    co_return ok(device_json(*d, gw.capabilities(d->id)));
  });

  r->get("/api/v1/live", [&gw](Req) -> Res {
    // Per device, plus the site's flows summed over its devices for the power-flow view.
    json::array devices;
    std::map<std::string, std::map<std::string, double>> flows;
    for (const auto& l : gw.live()) {
      devices.push_back(live_json(l));
      if (!l.online) continue;
      for (const auto& v : l.values)
        if (v.metric == metric::kPvPower || v.metric == metric::kLoadPower ||
            v.metric == metric::kGridPower || v.metric == metric::kBatteryPower ||
            v.metric == metric::kEvPower)
          flows[l.device.site][v.metric] += v.value;
    }
    json::object sites;
    for (const auto& site : flows) {  // no structured bindings in coroutines (g++ 12)
      json::object f;
      // To 0.1 W: a sum of readings carries no more (not -1201.5661288820804).
      for (const auto& kv : site.second) f[kv.first] = std::round(kv.second * 10) / 10;
      sites[site.first] = std::move(f);
    }
    co_return ok(json::object{{"devices", std::move(devices)}, {"sites", std::move(sites)}});
  });

  r->get("/api/v1/devices/{id}/live", [&gw](Req q) -> Res {
    for (const auto& l : gw.live())
      if (l.device.id == q.params["id"]) co_return ok(live_json(l));
    co_return error_response(ErrorKind::NotFound, "unknown device '" + q.params["id"] + "'");
  });

  // The values the device's commands change, as last read (?refresh=true reads them now, which
  // costs a cloud vendor's calls).
  r->get("/api/v1/devices/{id}/settings", [&gw](Req q) -> Res {
    bool refresh = false;
    if (auto it = q.query.find("refresh"); it != q.query.end()) {
      if (it->second != "true" && it->second != "false")
        co_return error_response(
            ErrorKind::InvalidArgument,
            "query parameter 'refresh' = '" + it->second + "' must be true or false");
      refresh = it->second == "true";
    }
    auto op = gw.settings(q.params["id"], refresh);
    auto s = co_await std::move(op);
    if (!s) co_return error_response(s.error());
    json::object values;
    for (const auto& x : s->settings) {
      json::object v;
      if (x.value) v["value"] = *x.value;
      if (!x.argument.empty() || !x.value) v["argument"] = x.argument;
      values[to_string(x.command)] = std::move(v);
    }
    co_return ok(json::object{{"device", s->device},
                              {"read_at", format_iso8601(s->read_at)},
                              {"settings", std::move(values)}});
  });

  r->get("/api/v1/devices/{id}/metrics", [&gw, &store, &pool](Req q) -> Res {
    auto id = q.params["id"];
    if (!gw.device(id))
      co_return error_response(ErrorKind::NotFound, "unknown device '" + id + "'");
    auto op = net::run_blocking(pool, [&store, id] { return store.metrics(id); });
    auto m = co_await std::move(op);
    if (!m) co_return error_response(m.error());
    json::array a;
    for (const auto& x : *m) a.push_back(json::string(x));
    co_return ok(a);
  });

  r->get("/api/v1/devices/{id}/history", [&gw, &store, &pool, &clock](Req q) -> Res {
    auto id = q.params["id"];
    if (!gw.device(id))
      co_return error_response(ErrorKind::NotFound, "unknown device '" + id + "'");
    auto mit = q.query.find("metric");
    if (mit == q.query.end() || mit->second.empty())
      co_return error_response(ErrorKind::InvalidArgument,
                               "query parameter 'metric' is required (e.g. battery.power)");
    if (!is_known_metric(mit->second))
      co_return error_response(ErrorKind::InvalidArgument, "unknown metric '" + mit->second + "'");
    auto from = time_param(q, "from");
    auto to = time_param(q, "to");
    auto step = step_param(q);
    auto limit = int_param(q, "limit", 1, 100'000);
    for (const Error* e : {from ? nullptr : &from.error(), to ? nullptr : &to.error(),
                           step ? nullptr : &step.error(), limit ? nullptr : &limit.error()})
      if (e) co_return error_response(*e);
    TimePoint t1 = to->value_or(clock.now());
    TimePoint t0 = from->value_or(t1 - std::chrono::hours(24));
    if (t0 >= t1)
      co_return error_response(ErrorKind::InvalidArgument, "'from' must be before 'to'");
    if (*step) {  // buckets on the site's whole minutes, hours and days, not at the asking time
      auto zone = find_site(gw, gw.device(id)->site);
      auto start = bucket_start(zone ? zone->timezone : std::string("UTC"), t0, **step);
      if (!start) co_return error_response(start.error());
      t0 = *start;
    }
    if (*step && (t1 - t0) / **step > 20'000)
      co_return error_response(ErrorKind::InvalidArgument,
                               "that range and step give over 20000 points; use a larger step");
    store::HistoryQuery hq{
        id, mit->second, {t0, t1}, *step, static_cast<std::size_t>(limit->value_or(100'000))};
    auto op = net::run_blocking(pool, [&store, hq] { return store.history(hq); });
    auto h = co_await std::move(op);
    if (!h) co_return error_response(h.error());
    json::array points;
    for (const auto& p : *h) {
      json::array row{to_ms(p.time), p.value};
      if (*step) {
        row.push_back(p.min);
        row.push_back(p.max);
      }
      points.push_back(std::move(row));
    }
    auto def = find_metric(mit->second);
    json::object o{{"device", id},
                   {"metric", mit->second},
                   {"unit", def ? unit_symbol(def->unit) : ""},
                   {"from", format_iso8601(t0)},
                   {"to", format_iso8601(t1)},
                   {"step_s", *step ? json::value((*step)->count() / 1000) : json::value(nullptr)},
                   {"columns", *step ? json::array{"time_ms", "value", "min", "max"}
                                     : json::array{"time_ms", "value"}},
                   {"points", std::move(points)}};
    co_return ok(o);
  });

  r->get("/api/v1/events", [&gw, &store, &pool](Req q) -> Res {
    auto p = list_params(q, 100);
    if (!p) co_return error_response(p.error());
    auto site = site_devices(gw, q);
    if (!site) co_return error_response(site.error());
    store::EventQuery eq{p->device, p->range, p->limit, std::move(*site)};
    auto op = net::run_blocking(pool, [&store, eq] { return store.events(eq); });
    auto ev = co_await std::move(op);
    if (!ev) co_return error_response(ev.error());
    json::array a;
    for (const auto& e : *ev) a.push_back(event_json(e));
    co_return ok(a);
  });

  // Gaps in history, newest first: ?device=, ?status=open,unfillable (comma list), ?from=, ?to=
  // (those that overlap the range), ?limit=.
  r->get("/api/v1/gaps", [&store, &pool](Req q) -> Res {
    auto p = list_params(q, 200);
    if (!p) co_return error_response(p.error());
    store::GapQuery gq;
    gq.device = p->device;
    gq.range = p->range;
    gq.limit = p->limit;
    if (auto it = q.query.find("status"); it != q.query.end() && !it->second.empty()) {
      auto statuses = parse_gap_statuses(it->second, "status");
      if (!statuses) co_return error_response(statuses.error());
      gq.statuses = std::move(*statuses);
    }
    auto op = net::run_blocking(pool, [&store, gq] { return store.gaps(gq); });
    auto gaps = co_await std::move(op);
    if (!gaps) co_return error_response(gaps.error());
    json::array a;
    for (const auto& g : *gaps) a.push_back(gap_json(g));
    co_return ok(a);
  });

  // Commands that hold for a while: ?active=true for those holding now, ?limit=.
  r->get("/api/v1/leases", [&store, &pool](Req q) -> Res {
    auto limit = int_param(q, "limit", 1, 10'000);
    if (!limit) co_return error_response(limit.error());
    bool active = false;
    if (auto it = q.query.find("active"); it != q.query.end()) {
      if (it->second != "true" && it->second != "false")
        co_return error_response(ErrorKind::InvalidArgument,
                                 "active '" + it->second + "' must be true or false");
      active = it->second == "true";
    }
    auto n = static_cast<std::size_t>(limit->value_or(50));
    auto op = net::run_blocking(pool, [&store, active, n] { return store.leases(active, n); });
    auto ls = co_await std::move(op);
    if (!ls) co_return error_response(ls.error());
    json::array a;
    for (const auto& l : *ls)
      a.push_back(json::object{{"id", l.id},
                               {"command_id", l.command},
                               {"device", l.device},
                               {"command", to_string(l.type)},
                               {"value", l.value},
                               {"argument", l.argument},
                               {"requested_by", l.requested_by},
                               {"started_at", format_iso8601(l.started_at)},
                               {"until", format_iso8601(l.until)},
                               {"state", l.state},
                               {"ended_at", opt_time(l.ended_at)},
                               {"detail", l.detail}});
    co_return ok(a);
  });

  r->get("/api/v1/commands", [&gw, &store, &pool](Req q) -> Res {
    auto limit = int_param(q, "limit", 1, 10'000);
    if (!limit) co_return error_response(limit.error());
    auto site = site_devices(gw, q);
    if (!site) co_return error_response(site.error());
    store::CommandQuery cq{std::move(*site), static_cast<std::size_t>(limit->value_or(50))};
    if (auto it = q.query.find("device"); it != q.query.end() && !it->second.empty())
      cq.devices = {it->second};
    auto op = net::run_blocking(pool, [&store, cq] { return store.commands(cq); });
    auto cs = co_await std::move(op);
    if (!cs) co_return error_response(cs.error());
    json::array a;
    for (const auto& c : *cs) a.push_back(command_json(c));
    co_return ok(a);
  });

  r->post("/api/v1/devices/{id}/commands", [&gw, options](Req q) -> Res {
    if (auto no = token_refusal(q, options.api_token, "commands are disabled")) co_return *no;
    auto body = net::parse_json_object(q.body, "request body");
    if (!body) co_return error_response(ErrorKind::InvalidArgument, body.error().message);
    auto name = net::get_string(*body, "command", "request body");
    if (!name) co_return error_response(ErrorKind::InvalidArgument, name.error().message);
    auto type = parse_command_type(*name);
    if (!type)
      co_return error_response(
          ErrorKind::InvalidArgument,
          "unknown command '" + *name + "' (valid: " + command_type_names() + ")");
    Command c;
    c.device = q.params["id"];
    c.type = *type;
    c.requested_by = "api:" + q.remote.substr(0, q.remote.rfind(':'));
    if (command_takes_argument(c.type)) {
      auto a = net::get_string(*body, "argument", "request body");
      if (!a) co_return error_response(ErrorKind::InvalidArgument, a.error().message);
      c.argument = *a;
    } else if (c.type != CommandType::Release) {
      auto v = net::get_number(*body, "value", "request body");
      if (!v) co_return error_response(ErrorKind::InvalidArgument, v.error().message);
      c.value = *v;
    }
    if (auto it = body->find("duration_s"); it != body->end()) {
      // Whole seconds only: 0.5 would be cut to nothing, and a fraction nobody meant.
      auto d = net::as_double(it->value());
      if (!d || *d < 1 || *d > 7 * 86400 || *d != std::floor(*d))
        co_return error_response(
            ErrorKind::InvalidArgument,
            "request body: 'duration_s' must be a whole number of seconds, 1..604800");
      c.duration = std::chrono::seconds(static_cast<std::int64_t>(*d));
    }
    auto op = gw.execute(std::move(c));
    auto rec = co_await std::move(op);
    if (!rec) co_return error_response(rec.error());
    co_return ok(command_json(*rec));
  });

  r->get("/api/v1/metrics", [](Req) -> Res {
    json::array a;
    for (const auto& m : metric_catalogue())
      a.push_back(json::object{{"id", m.id},
                               {"unit", unit_symbol(m.unit)},
                               {"counter", m.kind == MetricKind::Counter},
                               {"description", m.description}});
    co_return ok(a);
  });

  // Prometheus scrapes this (docs/prometheus.md); no token, like every read.
  // Prometheus asks for gzip (Accept-Encoding): a gateway's scrape shrinks about tenfold.
  r->get("/metrics", [&gw, &store, detail = options.metrics](Req q) -> Res {
    auto res =
        ServerResponse::text(200, prometheus::render(gw.own(), store.stats(), gw.fleet(), detail),
                             "text/plain; version=0.0.4; charset=utf-8");
    res.headers.emplace_back("Vary", "Accept-Encoding");
    if (net::accepts_gzip(q.header("Accept-Encoding"))) {
      res.body = net::gzip(res.body);
      res.headers.emplace_back("Content-Encoding", "gzip");
    }
    co_return res;
  });

  if (options.dashboard) {
    r->get("/", [](Req) -> Res { co_return asset("index.html"); });
    r->get("/fleet", [](Req) -> Res { co_return asset("fleet.html"); });
    r->get("/static/{path*}", [](Req q) -> Res { co_return asset(q.params["path"]); });
  }
  r->set_not_found([](Req q) -> Res {
    co_return error_response(ErrorKind::NotFound, "no route for " + q.method + " " + q.path);
  });
  return r;
}

}  // namespace sb::rest
