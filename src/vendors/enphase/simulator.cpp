#include "vendors/enphase/simulator.hpp"

#include <date/tz.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <cmath>
#include <sstream>
#include <variant>

#include "net/crypto.hpp"
#include "net/json.hpp"
#include "sim/http_faults.hpp"
#include "sim/oauth.hpp"
#include "vendors/enphase/simulator_detail.hpp"

namespace sb::enphase {

namespace json = boost::json;
using namespace std::chrono;
using namespace detail;

namespace {
std::string b64url(std::string_view bytes) {
  auto s = crypto::base64_encode(bytes);
  for (auto& c : s) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}
}  // namespace

std::vector<SimSystem> make_fleet(int n, std::uint64_t seed) {
  struct Place {
    const char *city, *state, *country, *postal, *zone;
    double lat, lon;
  };
  static const Place places[] = {
      {"Sacramento", "CA", "US", "95814", "America/Los_Angeles", 38.58, -121.49},
      {"Amsterdam", "NH", "NL", "1011", "Europe/Amsterdam", 52.37, 4.90},
      {"Sydney", "NSW", "AU", "2127", "Australia/Sydney", -33.87, 151.21},
      {"Austin", "TX", "US", "78701", "America/Chicago", 30.27, -97.74}};
  std::vector<SimSystem> out;
  for (int i = 0; i < n; ++i) {
    const auto& p = places[i % 4];
    SimSystem s;
    s.id = 698'900'000 + 1'000 * (i + 1) + static_cast<std::int64_t>(seed % 1000);
    s.name = std::string("Enphase System ") + p.city + (i >= 4 ? " " + std::to_string(i) : "");
    s.envoy_serial = std::to_string(122'300'000'000 + 17 * (i + 1) + seed);
    s.reference = i % 2 == 0 ? std::to_string(106'015'000 + i) : "";
    s.city = p.city;
    s.state = p.state;
    s.country = p.country;
    s.postal_code = p.postal;
    s.connection_type = i % 3 == 2 ? "cellular" : "ethernet";
    s.encharges = i % 2 == 0 ? 1 : 0;
    s.acbs = i % 4 == 3 ? 1 : 0;  // an older system with an AC Battery
    // The fifth to seventh show what live_data refuses: an old gateway (466), a battery without
    // a consumption meter (472), a gateway that stopped reporting two hours ago (473).
    if (i == 4) s.envoy_firmware = "R4.10.35";
    if (i == 5) s.encharges = 1, s.consumption_meter = false;
    if (i == 6) s.status = "comm";
    s.ev_charger = i == 0;
    s.micros = 10 + 2 * (i % 4);
    s.operational_days = 400 + 150 * i;
    s.site.latitude = p.lat;
    s.site.longitude = p.lon;
    s.site.timezone = p.zone;
    s.site.seed = seed + static_cast<std::uint64_t>(i);
    // Microinverter systems: each module its own 400 W string.
    s.site.strings.assign(static_cast<std::size_t>(s.micros),
                          sim::PvStringConfig{400, 180, 25, 1, 34.0});
    s.site.inverter_max_w = 400.0 * s.micros;
    // Without an IQ Battery the site's battery never moves (as FoxESS's battery-less inverters).
    if (!s.batteries()) s.site.battery.max_charge_w = s.site.battery.max_discharge_w = 0;
    out.push_back(std::move(s));
  }
  return out;
}

Simulator::Simulator(boost::asio::any_io_executor executor, const Clock& clock, SimOptions options,
                     sim::FaultSpec faults)
    : sim::HttpSimulator(executor, faults), clock_(clock), options_(std::move(options)) {
  if (options_.systems.empty()) options_.systems = make_fleet(2);
  auto now = clock_.now();
  for (const auto& s : options_.systems) {
    System sys;
    sys.cfg = s;
    if (sys.cfg.owner.empty()) sys.cfg.owner = options_.username;
    sys.site = std::make_unique<sim::Site>(s.site, now);
    sys.operational_at = epoch_s(now) - std::int64_t{s.operational_days} * 86'400;
    sys.zone = date::locate_zone(s.site.timezone);
    sys.settings.emplace_back(0, BatterySettings{});
    if (s.encharges > 0) {
      DryContact nc1{"NC1", "Downstairs A/C"}, nc2{"NC2", "Pool pump"};
      nc2.mode = "Scheduled";
      sys.contacts = {nc1, nc2};
    }
    systems_.push_back(std::move(sys));
  }
  // Each system's history has a gateway that stops reporting for a few hours every few weeks.
  for (const auto& sys : systems_)
    for (std::int64_t day = 3; day < sys.cfg.operational_days; day += 17 + sys.cfg.id % 5) {
      auto start = sys.operational_at + day * 86'400 + 3'600 * (sys.cfg.id % 7);
      events_.push_back({sys.cfg.id, 28, sys.cfg.envoy_serial, start, start + 3 * 3'600});
    }
  // A system with a communication problem: its gateway has not reported for two hours.
  for (const auto& sys : systems_)
    if (sys.cfg.status == "comm")
      events_.push_back({sys.cfg.id, 28, sys.cfg.envoy_serial, epoch_s(now) - 7'200, std::nullopt});
  std::lock_guard lock(mutex_);
  auto auth_now = auth_clock().now();
  default_token_ = new_jwt(options_.username, auth_now + options_.access_token_life);
  access_[default_token_] = {options_.username, auth_now + options_.access_token_life};
}

Simulator::~Simulator() {
  stop();
}

// A JWT as the real server issues them (header.payload.signature, base64url), signed with a key
// only the simulator knows: clients treat it as opaque, as they should.
std::string Simulator::new_jwt(const std::string& user, TimePoint expires) {
  auto jti = crypto::hex(crypto::random_bytes(8)) + std::to_string(++serial_);
  json::object payload{{"aud", json::array{"oauth2-resource"}},
                       {"user_name", user},
                       {"scope", json::array{"read", "write"}},
                       {"exp", epoch_s(expires)},
                       {"jti", jti},
                       {"client_id", options_.client_id}};
  auto head = b64url(R"({"alg":"HS256","typ":"JWT"})") + "." + b64url(json::serialize(payload));
  return head + "." + b64url(crypto::hmac_sha256("enphase-sim-signing-key", head));
}

std::string Simulator::issue_code(const std::string& redirect_uri) {
  std::lock_guard lock(mutex_);
  auto code = b64url(crypto::random_bytes(6));
  codes_[code] = {redirect_uri, auth_clock().now() + options_.code_life};
  return code;
}

net::OAuthTokens Simulator::issue_tokens() {
  std::lock_guard lock(mutex_);
  auto now = auth_clock().now();
  auto access = new_jwt(options_.username, now + options_.access_token_life);
  auto refresh = new_jwt(options_.username, now + options_.refresh_token_life);
  access_[access] = {options_.username, now + options_.access_token_life};
  refresh_[refresh] = {options_.username, now + options_.refresh_token_life};
  return {access, refresh, options_.access_token_life};
}

void Simulator::revoke_all_tokens() {
  std::lock_guard lock(mutex_);
  access_.clear();
  refresh_.clear();
}

void Simulator::set_plan(Plan plan) {
  std::lock_guard lock(mutex_);
  options_.plan = plan;
}

void Simulator::spend_month(int n) {
  std::lock_guard lock(mutex_);
  auto now = clock_.now();
  auto ymd = year_month_day(floor<days>(now));
  auto month = epoch_s(time_point_cast<Millis>(sys_days(ymd.year() / ymd.month() / 1)));
  if (month != month_start_) month_start_ = month, month_calls_ = 0;
  month_calls_ += n;
}

std::pair<int, int> Simulator::usage() {
  std::lock_guard lock(mutex_);
  return {minute_calls_, month_calls_};
}

void Simulator::raise_event(std::int64_t system, int type, std::string serial, TimePoint start,
                            std::optional<TimePoint> end) {
  std::lock_guard lock(mutex_);
  if (serial.empty())
    if (auto* s = system_locked(system)) serial = s->cfg.envoy_serial;
  events_.push_back({system, type, std::move(serial), epoch_s(start),
                     end ? std::optional<std::int64_t>(epoch_s(*end)) : std::nullopt});
}

Simulator::System* Simulator::system_locked(std::int64_t id) {
  for (auto& s : systems_)
    if (s.cfg.id == id) return &s;
  return nullptr;
}

const BatterySettings& Simulator::System::settings_at(std::int64_t t) const {
  auto it = std::upper_bound(settings.begin(), settings.end(), t,
                             [](std::int64_t v, const auto& e) { return v < e.first; });
  return it == settings.begin() ? settings.front().second : std::prev(it)->second;
}

double Simulator::System::ev_power(TimePoint t) const {
  constexpr double kMaxW = 32 * 240;  // 32 A at 240 V
  // The seeded sessions: 19:00-21:30 local on even days, at full current.
  auto local = zone->to_local(t);
  auto day = date::floor<date::days>(local);
  auto into = local - day;
  date::local_seconds midnight = day, start = day + hours(19), end = day + hours(21) + minutes(30);
  bool seeded = day.time_since_epoch().count() % 2 == 0 && into >= hours(19) &&
                into < hours(21) + minutes(30);
  // When the seeded pattern last changed (a start or an end at or before t).
  auto changed = into >= hours(21) + minutes(30) ? end : into >= hours(19) ? start : midnight;
  auto changed_at = epoch_s(time_point_cast<Millis>(zone->to_sys(changed, date::choose::earliest)));
  auto now = epoch_s(t);
  const EvCommand* last = nullptr;
  for (const auto& c : ev_commands)
    if (c.at <= now) last = &c;
  if (!last || last->at < changed_at) return seeded ? kMaxW : 0;
  // A started session stops by itself after 3 hours (the car is full).
  if (!last->charge || now - last->at >= 3 * 3'600) return 0;
  return kMaxW * last->level / 100;
}

Simulator::DayEnergy Simulator::slots(const System& sys, TimePoint from, TimePoint until,
                                      double stored,
                                      std::vector<std::pair<TimePoint, DayEnergy>>* each) const {
  DayEnergy e;
  e.stored_start = stored;
  const auto& cfg = sys.cfg.site;
  const auto& b = cfg.battery;
  bool battery = sys.cfg.batteries() > 0;
  constexpr double kSlotH = 5.0 / 60;
  for (auto t = from; t + minutes(5) <= until; t += minutes(5)) {
    auto mid = t + seconds(150);
    double pv_w = 0;
    for (const auto& str : sys.site->pv_at(mid)) pv_w += str.power_w;
    DayEnergy x;
    x.stored_start = stored;
    x.pv = std::min(pv_w, cfg.inverter_max_w) * kSlotH;
    if (sys.cfg.ev_charger) x.ev = sys.ev_power(mid) * kSlotH;
    x.load = sys.site->load_at(mid) * kSlotH + x.ev;
    if (battery) {
      // The battery as its settings say: Self-consumption covers the house down to the reserve;
      // Savings Mode discharges in the evening peak (17:00-21:00), and on through the night with
      // energy independence; Full Backup (also storm guard during an alert) only charges. Charge
      // from grid fills Full Backup, and the others up to their reserve.
      const auto& st = sys.settings_at(epoch_s(mid));
      bool backup = st.mode == "Full Backup" || (st.storm_guard && st.storm_alert);
      double reserve_wh = b.capacity_wh * std::max<double>(st.reserve_soc, b.min_soc_percent) / 100;
      double room = std::max(0.0, (b.capacity_wh - stored) / b.charge_efficiency);
      bool may_discharge = !backup;
      if (!backup && st.mode == "Savings Mode") {
        auto hour = date::floor<std::chrono::hours>(sys.zone->to_local(mid)).time_since_epoch() %
                    std::chrono::hours(24);
        may_discharge = (hour >= hours(17) && hour < hours(21)) ||
                        (st.energy_independence && (hour >= hours(21) || hour < hours(7)));
      }
      if (x.pv > x.load) {
        x.charge = std::min({x.pv - x.load, b.max_charge_w * kSlotH, room});
      } else if (may_discharge) {
        x.discharge = std::min({x.load - x.pv, b.max_discharge_w * kSlotH,
                                std::max(0.0, stored - reserve_wh) * b.discharge_efficiency});
      }
      double grid_target = backup ? b.capacity_wh : reserve_wh;
      if (st.charge_from_grid && stored < grid_target)
        x.charge = std::max(x.charge, std::min({b.max_charge_w * kSlotH, room,
                                                (grid_target - stored) / b.charge_efficiency}));
      stored += x.charge * b.charge_efficiency - x.discharge / b.discharge_efficiency;
    }
    double net = x.load + x.charge - x.pv - x.discharge;  // + from the grid
    (net > 0 ? x.import : x.export_) = std::abs(net);
    x.stored_end = stored;
    e.add_flows(x);
    if (each) each->emplace_back(t + minutes(5), x);
  }
  e.stored_end = stored;
  return e;
}

Simulator::DayEnergy Simulator::history_locked(System& sys, TimePoint now) {
  LocalDays L{date::locate_zone(sys.cfg.site.timezone)};
  auto first = L.day(from_ms(sys.operational_at * 1000));
  auto today = L.day(now);
  while (static_cast<std::int64_t>(sys.days.size()) < (today - first).count()) {
    auto d = first + date::days(static_cast<int>(sys.days.size()));
    const auto& b = sys.cfg.site.battery;
    double stored =
        sys.days.empty() ? b.capacity_wh * b.initial_soc_percent / 100 : sys.days.back().stored_end;
    sys.days.push_back(slots(sys, L.start(d), L.start(d + date::days(1)), stored));
  }
  double stored = sys.days.empty() ? sys.cfg.site.battery.capacity_wh *
                                         sys.cfg.site.battery.initial_soc_percent / 100
                                   : sys.days.back().stored_end;
  return slots(sys, L.start(today), std::min(now, L.start(today + date::days(1))), stored);
}

std::vector<std::pair<TimePoint, Simulator::DayEnergy>> Simulator::slots_between(System& sys,
                                                                                 TimePoint from,
                                                                                 TimePoint until) {
  auto today_energy = history_locked(sys, clock_.now());
  LocalDays L{date::locate_zone(sys.cfg.site.timezone)};
  auto first = L.day(from_ms(sys.operational_at * 1000));
  std::vector<std::pair<TimePoint, DayEnergy>> out;
  for (auto d = L.day(from); L.start(d) < until; d += date::days(1)) {
    auto i = (d - first).count();
    if (i < 0) continue;
    double stored = i < static_cast<std::int64_t>(sys.days.size())
                        ? sys.days[static_cast<std::size_t>(i)].stored_start
                        : today_energy.stored_start;
    std::vector<std::pair<TimePoint, DayEnergy>> day;
    slots(sys, L.start(d), std::min(until, L.start(d + date::days(1))), stored, &day);
    for (auto& x : day)
      if (x.first > from) out.push_back(x);
  }
  return out;
}

std::shared_ptr<net::Router> Simulator::routes() {
  auto r = std::make_shared<net::Router>();
  add_oauth_routes(*r);
  add_system_routes(*r);
  add_series_routes(*r);
  add_device_routes(*r);
  add_config_routes(*r);
  add_ev_routes(*r);
  add_live_route(*r);
  sim::set_fallbacks(
      *r, http_->gate(), requests_,
      [] { return e1(404, "Not Found", "The requested resource was not found"); },
      [](const net::ServerRequest& req) {
        auto res = e3(405, "Method not allowed");  // the EV charger's (E6) as octet-stream
        if (req.path.find("/ev_charger/") != std::string::npos)
          res.content_type = "application/octet-stream";
        return res;
      });
  return r;
}

void Simulator::add_oauth_routes(net::Router& r) {
  using sim::oauth_error;
  using sim::oauth_params;
  using Handler = std::function<net::ServerResponse(net::ServerRequest&)>;
  auto wrap = [this](Handler h) {
    return sim::with_faults(
        http_->gate(), faults_, requests_,
        {[] { return oauth_error(503, "temporarily_unavailable", "try again later"); }, {}}, h);
  };
  // The default user signs in and allows the app at once: the page redirects with a code.
  r.get("/oauth/authorize", wrap([this](net::ServerRequest& req) {
          auto p = oauth_params(req);
          if (p["response_type"] != "code")
            return oauth_error(400, "unsupported_response_type", "response_type must be code");
          if (p["client_id"] != options_.client_id)
            return oauth_error(400, "invalid_client", "unknown client_id '" + p["client_id"] + "'");
          auto uri = p.contains("redirect_uri")
                         ? p["redirect_uri"]
                         : std::string("https://api.enphaseenergy.com/oauth/redirect_uri");
          if (!uri.starts_with("http://") && !uri.starts_with("https://"))
            return oauth_error(400, "invalid_request", "redirect_uri must be an http(s) URL");
          return sim::code_redirect(uri, issue_code(uri), p);
        }));
  r.post("/oauth/token", wrap([this](net::ServerRequest& req) {
           auto p = oauth_params(req);
           auto client = sim::basic_client(req);
           if (!client || client->first != options_.client_id ||
               client->second != options_.client_secret)
             return oauth_error(401, "invalid_client",
                                "Basic client authentication failed (client_id:client_secret)");
           const auto& grant = p["grant_type"];
           auto now = auth_clock().now();
           std::lock_guard lock(mutex_);
           std::string user;
           if (grant == "authorization_code") {
             auto it = codes_.find(p["code"]);
             if (it == codes_.end() || now >= it->second.expires)
               return oauth_error(400, "invalid_grant", "Invalid authorization code: " + p["code"]);
             if (p["redirect_uri"] != it->second.redirect_uri)
               return oauth_error(400, "invalid_grant", "Redirect URI mismatch.");
             codes_.erase(it);  // single use
             user = options_.username;
           } else if (grant == "refresh_token") {
             auto it = refresh_.find(p["refresh_token"]);
             if (it == refresh_.end() || now >= it->second.expires)
               return oauth_error(400, "invalid_grant", "Invalid refresh token");
             user = it->second.user;
             refresh_.erase(it);  // rotates: the old one is spent
           } else if (grant == "password") {
             if (!options_.partner_app)
               return oauth_error(400, "unauthorized_client",
                                  "the password grant is for partner applications");
             if (p["username"] != options_.username || p["password"] != options_.password)
               return oauth_error(400, "invalid_grant", "Bad credentials");
             user = options_.username;
           } else {
             return oauth_error(400, "unsupported_grant_type", "Unsupported grant type: " + grant);
           }
           auto expires = now + options_.access_token_life;
           auto access = new_jwt(user, expires);
           auto refresh = new_jwt(user, now + options_.refresh_token_life);
           access_[access] = {user, expires};
           refresh_[refresh] = {user, now + options_.refresh_token_life};
           return ok(json::object{{"access_token", access},
                                  {"token_type", "bearer"},
                                  {"refresh_token", refresh},
                                  {"expires_in", options_.access_token_life.count() - 1},
                                  {"scope", "read write"},
                                  {"enl_uid", "4711"},
                                  {"enl_cid", "1234"},
                                  {"enl_password_last_changed", "1700000000"},
                                  {"is_internal_app", false},
                                  {"app_type", options_.partner_app ? "partner" : "system"},
                                  {"jti", access.substr(access.size() - 12)}});
         }));
}

net::ServerResponse Simulator::error_body(Style style, int status, std::string details) const {
  switch (style) {
    case Style::Rgm:
      if (status == 500)
        return net::ServerResponse::json(
            500, net::to_json(json::object{
                     {"errorCode", 7},
                     {"errorMessages", json::array{"Data is temporarily unavailable"}}}));
      [[fallthrough]];
    case Style::Plain:
    case Style::Quota:
      return e1(status,
                status == 401   ? "Not Authorized"
                : status == 403 ? "Forbidden"
                : status == 404 ? "Not Found"
                : status == 429 ? "Too Many Requests"
                                : "Internal Server Error",
                std::move(details));
    case Style::Ev:
      // The EV calls declare no 404: an unknown system is a bad request.
      if (status == 404) return e4(400, "Bad request", "Invalid system_id");
      if (status == 500) return e4(500, "Internal Server Error", "Internal Server Error");
      return e4(status,
                status == 401   ? "Not Authorized"
                : status == 403 ? "Forbidden"
                : status == 429 ? "Too Many Requests"
                                : "Bad request",
                json::value(std::move(details)));
    case Style::Live: {
      auto now = clock_.now();
      if (status == 401)
        return e7(401, details.starts_with("API") ? "NOT_AUTHENTICATED" : "UNAUTHORIZED",
                  "authentication_error", std::move(details), now);
      if (status == 403)
        return e7(403, "FORBIDDEN", "authorization_error", "User is not authorized", now);
      if (status == 404)
        return e7(468, "INVALID_SYSTEM_ID", "validation_error", "System ID doesn't exist", now);
      if (status == 429)
        return e7(429, "TOO_MANY_REQUESTS", "request_exceeded_error", "Too Many Requests", now);
      return e7(550, "SERVICE_UNREACHABLE", "server_error", "Service unreachable, please try again",
                now);
    }
  }
  return e1(500, "Internal Server Error", std::move(details));
}

// Every API call: faults, then the API key (header `key` or query `?key=`), then the bearer
// token, then the plan's minute and month. The style is the operation's error bodies: E1 with a
// plain 429 (Plain) or one with the quota fields (Quota, E2), the EV charger's octet-stream E4
// (Ev), or live_data's E7 (Live).
net::Handler Simulator::api_route(Style style, ApiHandler h) {
  return sim::with_faults(
      http_->gate(), faults_, requests_,
      {[this, style] { return error_body(style, 500, "unable to fetch data"); }, {}},
      [this, style, h](net::ServerRequest& req) {
        std::string key(req.header("key"));
        if (key.empty() && req.query.contains("key")) key = req.query.at("key");
        if (key.empty()) return error_body(style, 401, "API key is missing");
        if (key != options_.api_key) return error_body(style, 401, "API Key is invalid");
        auto auth = req.header("Authorization");
        auto now = clock_.now();
        std::lock_guard lock(mutex_);
        std::string user;
        if (auth.starts_with("Bearer ")) {
          auto it = access_.find(std::string(auth.substr(7)));
          if (it != access_.end() && auth_clock().now() < it->second.expires)
            user = it->second.user;
        }
        if (user.empty()) return error_body(style, 401, "User is not authorized");
        // Fixed windows: the minute, and the calendar month in UTC.
        auto s = epoch_s(now);
        auto ymd = year_month_day(floor<days>(now));
        auto month = epoch_s(time_point_cast<Millis>(sys_days(ymd.year() / ymd.month() / 1)));
        if (s / 60 * 60 != minute_start_) minute_start_ = s / 60 * 60, minute_calls_ = 0;
        if (month != month_start_) month_start_ = month, month_calls_ = 0;
        auto plan = plan_limits(options_.plan);
        bool per_minute = minute_calls_ >= plan.per_minute;
        if (per_minute || month_calls_ >= plan.per_month) {
          ++over_limit_;
          auto details = std::string("Usage limit exceeded for plan ") + plan.name;
          if (style != Style::Quota && style != Style::Rgm) return error_body(style, 429, details);
          auto next_month = ymd.year() / ymd.month() / 1 + months(1);
          auto end = per_minute ? minute_start_ + 60
                                : epoch_s(time_point_cast<Millis>(sys_days(next_month)));
          json::object o{{"message", "Too Many Requests"},
                         {"details", details},
                         {"code", 429},
                         {"limit", per_minute ? plan.per_minute : plan.per_month},
                         {"period", per_minute ? "minute" : "month"},
                         {"period_start", per_minute ? minute_start_ : month_start_},
                         {"period_end", end}};
          return net::ServerResponse::json(429, net::to_json(o));
        }
        ++minute_calls_;  // refused calls are not counted (decision)
        ++month_calls_;
        return h(req, user);
      });
}

// The system in the path, brought up to now: unknown (404; the EV calls' 400, live_data's 468)
// or another user's (403).
net::ServerResponse Simulator::in_system(Style style, net::ServerRequest& req,
                                         const std::string& user,
                                         const std::function<net::ServerResponse(System&)>& f) {
  const auto& raw = req.params["system_id"];
  auto id =
      raw.empty() || raw.size() > 15 || raw.find_first_not_of("0123456789") != std::string::npos
          ? std::optional<std::int64_t>()
          : std::optional<std::int64_t>(std::stoll(raw));
  auto* sys = id ? system_locked(*id) : nullptr;
  if (!sys) return error_body(style, 404, "System not found for {:id=>\"" + raw + "\"}");
  if (sys->cfg.owner != user)
    return error_body(style, 403, "Not authorized to access this resource");
  sys->site->advance_to(clock_.now());
  return f(*sys);
}

std::int64_t Simulator::last_report() const {
  return epoch_s(clock_.now()) / 300 * 300;
}

// Site telemetry: intervals of 5 minutes (microinverters) or 15 (meters, batteries) that end
// after the start and by min(now, start + granularity); start_at (epoch s) or start_date
// (local midnight; then echoed as start_date), default midnight today, a start before the
// first report moved to midnight of the first reported day, at most 2 years back.
std::variant<Simulator::Window, net::ServerResponse> Simulator::window(
    const net::ServerRequest& req, const System& s) const {
  Window w;
  if (auto it = req.query.find("granularity"); it != req.query.end()) w.granularity = it->second;
  Millis span{0};
  if (w.granularity == "5mins")
    span = minutes(5);
  else if (w.granularity == "15mins")
    span = minutes(15);
  else if (w.granularity == "day")
    span = hours(24);
  else if (w.granularity == "week")
    span = hours(24 * 7);
  else
    return unprocessable("Invalid request because of 'granularity does not have a valid value'");
  auto now = clock_.now();
  LocalDays L{date::locate_zone(s.cfg.site.timezone)};
  w.start = L.start(L.day(now));
  if (auto it = req.query.find("start_date"); it != req.query.end()) {
    std::istringstream in(it->second);
    date::local_days d;
    in >> date::parse("%F", d);
    if (in.fail() || it->second.size() != 10)
      return unprocessable("Invalid request because of 'start_date must be a date YYYY-MM-DD'");
    w.start = L.start(d);
    w.by_date = true;
  } else if (req.query.contains("start_at")) {
    auto at = int_param(req, "start_at", 0, 99'999'999'999);
    if (!at.error.empty()) return unprocessable("Invalid request because of '" + at.error + "'");
    w.start = from_ms(*at.value * 1000);
  }
  if (w.start > now) return unprocessable("Requested date is in the future");
  if (w.start < now - hours(24 * 731))
    return unprocessable("Invalid request because of 'start should be within the last 2 years'");
  auto first = L.start(L.day(from_ms(s.operational_at * 1000)));
  if (w.start < first) w.start = first;
  w.end = std::min(now, w.start + span);
  return w;
}
// The slots of the window summed into intervals of `length`, each stamped with its end.
std::vector<std::pair<TimePoint, Simulator::DayEnergy>> Simulator::intervals(System& s,
                                                                             const Window& w,
                                                                             Millis length) {
  auto aligned = from_ms(to_ms(w.start) / 300'000 * 300'000);
  std::vector<std::pair<TimePoint, DayEnergy>> out;
  for (auto& [end, x] : slots_between(s, aligned, w.end)) {
    if (end <= w.start) continue;
    auto slot_of = from_ms((to_ms(end) + length.count() - 1) / length.count() * length.count());
    if (slot_of > w.end) break;
    if (out.empty() || out.back().first != slot_of) {
      out.emplace_back(slot_of, x);
    } else {
      auto& acc = out.back().second;
      acc.add_flows(x);
      acc.stored_end = x.stored_end;
    }
  }
  return out;
}
json::object Simulator::envelope(const System& s, const Window& w, int devices) const {
  json::object o{
      {"system_id", s.cfg.id}, {"granularity", w.granularity}, {"total_devices", devices}};
  if (w.by_date) {
    LocalDays L{date::locate_zone(s.cfg.site.timezone)};
    o["start_date"] = date::format("%F", L.day(w.start));
  } else {
    o["start_at"] = epoch_s(w.start);
  }
  o["end_at"] = epoch_s(w.end);
  o["items"] = "intervals";
  return o;
}
json::object Simulator::meta(const System& s) const {
  return json::object{{"status", s.cfg.status},
                      {"last_report_at", last_report()},
                      {"last_energy_at", last_report()},
                      {"operational_at", s.operational_at}};
}

}  // namespace sb::enphase
