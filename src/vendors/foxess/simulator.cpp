#include "vendors/foxess/simulator.hpp"
#include "vendors/foxess/simulator_detail.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <boost/url/parse_query.hpp>
#include <charconv>
#include <cmath>
#include <functional>
#include <set>

#include "net/json.hpp"
#include "sim/http_faults.hpp"
#include "sim/oauth.hpp"
#include "vendors/foxess/scheduler.hpp"
#include "vendors/foxess/signature.hpp"
#include "vendors/foxess/variables.hpp"

namespace sb::foxess {

namespace json = boost::json;
using namespace std::chrono;

using namespace detail;

std::vector<SimPlant> make_account(int plants, int per_plant, std::uint64_t seed, bool mixed,
                                   const sim::SiteConfig& base) {
  static const struct {
    const char* city;
    const char* postcode;
    double lat, lon;
  } kCities[] = {{"Berlin", "10115", 52.52, 13.40},    {"Hamburg", "20095", 53.55, 9.99},
                 {"Munich", "80331", 48.14, 11.58},    {"Cologne", "50667", 50.94, 6.96},
                 {"Leipzig", "04109", 51.34, 12.37},   {"Freiburg", "79098", 47.99, 7.85},
                 {"Dresden", "01067", 51.05, 13.74},   {"Hannover", "30159", 52.37, 9.73},
                 {"Nuremberg", "90402", 49.45, 11.08}, {"Kiel", "24103", 54.32, 10.13}};
  std::vector<SimPlant> out;
  int n = 0;
  for (int p = 0; p < plants; ++p) {
    SimPlant plant;
    const auto& city = kCities[std::size_t(p) % std::size(kCities)];
    char id[40];
    std::snprintf(id, sizeof id, "5f3c%04x-1d2e-4b7a-9c01-%012llx", p + 1,
                  static_cast<unsigned long long>(seed * 7919 + std::uint64_t(p)));
    plant.station_id = id;
    plant.name =
        std::string("Plant ") + city.city + (plants > 10 ? " " + std::to_string(p + 1) : "");
    plant.city = city.city;
    plant.postcode = city.postcode;
    plant.address = "Sonnenallee " + std::to_string(p + 1);
    char meter[24];
    std::snprintf(meter, sizeof meter, "60GW%04lluMTR%04d",
                  static_cast<unsigned long long>(seed % 10000), p + 1);
    plant.meter_sn = meter;
    for (int i = 0; i < per_plant; ++i, ++n) {
      SimInverter inv;
      char sn[24];
      std::snprintf(sn, sizeof sn, "60BH10%04lluSIM%04d",
                    static_cast<unsigned long long>(seed % 10000), n + 1);
      inv.sn = sn;
      inv.site = base;
      inv.site.latitude = city.lat;
      inv.site.longitude = city.lon;
      inv.site.seed = seed * 1000 + std::uint64_t(n);
      inv.has_battery = !(mixed && n % 3 == 2);
      if (!inv.has_battery) {
        inv.device_type = "F3-10.0-E";
        inv.product_type = "F3";
        inv.site.battery.max_charge_w = inv.site.battery.max_discharge_w = 0;
      }
      plant.inverters.push_back(std::move(inv));
    }
    out.push_back(std::move(plant));
  }
  return out;
}

Simulator::Simulator(boost::asio::any_io_executor executor, const Clock& clock, SimOptions options,
                     sim::FaultSpec faults)
    : sim::HttpSimulator(executor, faults), clock_(clock), options_(std::move(options)) {
  if (options_.plants.empty()) options_.plants = make_account(1, 1);
  auto now = clock_.now();
  int n = 0;
  for (auto& plant : options_.plants) {
    plant.timezone = zone_of(plant);
    if (!plant.meter_sn.empty())
      meters_[plant.meter_sn] = Meter{plant.station_id,
                                      {{"mode", "normal"},
                                       {"feedinPower", "0"},
                                       {"outputMaxCurrent", "60"},
                                       {"inputMaxCurrent", "60"},
                                       {"overVoltageMaxValue", "253"},
                                       {"underVoltageMinValue", "195"},
                                       {"sysOnOffPowerValue", "0"},
                                       {"deviceQuantity", std::to_string(plant.inverters.size())}}};
    for (const auto& cfg : plant.inverters) {
      auto inv = std::make_unique<Inverter>(cfg.site.timezone);
      inv->cfg = cfg;
      inv->station_id = plant.station_id;
      inv->station_name = plant.name;
      char module[24];
      std::snprintf(module, sizeof module, "609W5EUF%08d", ++n);
      inv->module_sn = module;
      // Each site starts at its local midnight so that the day's energy agrees with the physics.
      inv->start = inv->cal.midnight(now);
      inv->site = std::make_unique<sim::Site>(cfg.site, inv->start);
      inv->start_counters = inv->site->counters();
      inv->next_row = inv->start;
      inv->min_soc = inv->min_soc_on_grid = int(std::max(10.0, cfg.site.battery.min_soc_percent));
      inv->max_soc = int(cfg.site.battery.max_soc_percent);
      inv->export_limit_w = cfg.site.inverter_max_w;
      inv->site->set_reserve_soc(inv->min_soc_on_grid);
      advance_locked(*inv, now);
      inverters_.push_back(std::move(inv));
    }
  }
  plants_made_ = int(options_.plants.size());
}

Simulator::~Simulator() {
  stop();
}

Simulator::Inverter* Simulator::find_locked(const std::string& sn) {
  for (auto& inv : inverters_)
    if (inv->cfg.sn == sn) return inv.get();
  return nullptr;
}

sim::Site* Simulator::site_locked(const std::string& sn) {
  auto* inv = find_locked(sn);
  if (!inv) return nullptr;
  advance_locked(*inv, clock_.now());
  return inv->site.get();
}

void Simulator::advance_locked(Inverter& inv, TimePoint now) {
  while (inv.next_row <= now) {
    inv.site->advance_to(inv.next_row);
    inv.rows.push_back({inv.next_row, inv.site->state(), inv.site->counters()});
    if (to_ms(inv.next_row) % 3'600'000 == 0)
      inv.hourly[to_ms(inv.next_row)] = inv.site->counters();
    while (!inv.rows.empty() && inv.rows.front().time < inv.next_row - kKeepRows)
      inv.rows.pop_front();
    inv.next_row += kRowStep;
  }
  if (inv.site->now() < now) inv.site->advance_to(now);
}

void Simulator::apply_controls_locked(Inverter& inv) {
  using sim::DaySegment;
  using sim::SegmentMode;
  std::vector<DaySegment> plan;
  const auto& battery = inv.cfg.site.battery;
  if (inv.scheduler_on) {
    // The scheduler replaces the work mode and the force-charge windows while it is on.
    for (const auto& g : inv.groups) {
      if (!g.enable) continue;
      DaySegment seg{group_start(g), group_end(g)};
      seg.min_soc_percent = g.min_soc_on_grid;
      if (g.work_mode == "Feedin") seg.mode = SegmentMode::NoCharge;
      if (g.work_mode == "Backup") seg.mode = SegmentMode::NoDischarge;
      if (g.work_mode == "ForceCharge") {
        seg.mode = SegmentMode::Charge;
        seg.power_w = g.fd_pwr;
        seg.max_soc_percent = g.max_soc.value_or(inv.max_soc);
      }
      if (g.work_mode == "ForceDischarge") {
        seg.mode = SegmentMode::Discharge;
        seg.power_w = g.fd_pwr;
        seg.min_soc_percent = g.fd_soc;
      }
      plan.push_back(seg);
    }
  } else {
    // Force-charge windows charge from the grid at full power up to MaxSoc; a window whose
    // end is before its start runs across midnight.
    for (const auto& w : inv.force_charge) {
      if (!w.enable) continue;
      int start = w.start_hour * 60 + w.start_minute, end = w.end_hour * 60 + w.end_minute;
      if (end == 23 * 60 + 59) end = 1440;
      DaySegment seg{start, end, SegmentMode::Charge, battery.max_charge_w, 0, double(inv.max_soc)};
      if (end > start) {
        plan.push_back(seg);
      } else if (end < start) {
        seg.end_minute = 1440;
        plan.push_back(seg);
        seg.start_minute = 0;
        seg.end_minute = end;
        if (end > 0) plan.push_back(seg);
      }
    }
    if (inv.work_mode == "Feedin") plan.push_back({0, 1440, SegmentMode::NoCharge});
    if (inv.work_mode == "Backup") plan.push_back({0, 1440, SegmentMode::NoDischarge});
    // Peak shaving keeps `soc` for the peaks: self-consumption stops there, and import above
    // the limit is covered down to minSocOnGrid.
    if (inv.work_mode == "PeakShaving")
      plan.push_back({0, 1440, SegmentMode::SelfUse, 0, double(inv.peak_soc)});
  }
  inv.site->set_day_plan(std::move(plan));
  double limit = inv.export_limit_w;
  if (inv.meter_share_w) limit = std::min(limit, *inv.meter_share_w);
  inv.site->set_export_limit(limit < inv.cfg.site.inverter_max_w ? std::optional<double>(limit)
                                                                 : std::nullopt);
  bool shaving = !inv.scheduler_on && inv.work_mode == "PeakShaving";
  inv.site->set_peak_shaving(
      shaving ? std::optional<double>(inv.peak_import_limit_kw * 1000) : std::nullopt,
      inv.min_soc_on_grid);
}

bool Simulator::scheduler_enabled(const std::string& sn) {
  std::lock_guard lock(mutex_);
  auto* inv = find_locked(sn);
  return inv && inv->scheduler_on;
}

std::string Simulator::new_token(const char* prefix) {
  // Unguessable enough for a simulator, and distinct across runs of one process.
  auto n = ++token_serial_;
  auto t = static_cast<unsigned long long>(to_ms(clock_.now()));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s%012llx%08llx", prefix, t ^ (n * 0x9E3779B97F4A7C15ULL),
                static_cast<unsigned long long>(n * 2654435761ULL));
  return buf;
}

void Simulator::revoke_all_tokens() {
  std::lock_guard lock(mutex_);
  access_tokens_.clear();
  for (auto& [token, valid] : refresh_tokens_) valid = false;
}

std::string Simulator::issue_code(const std::string& redirect_uri) {
  std::lock_guard lock(mutex_);
  auto code = new_token("code-");
  codes_[code] = {redirect_uri, clock_.now() + std::chrono::minutes(10)};
  return code;
}

void Simulator::stop_uploading(const std::string& sn, bool stopped) {
  std::lock_guard lock(mutex_);
  if (stopped)
    frozen_.try_emplace(sn);  // the next real-time answer is the last upload
  else
    frozen_.erase(sn);
}

std::string Simulator::setting(const std::string& sn, const std::string& key) {
  std::lock_guard lock(mutex_);
  auto* inv = find_locked(sn);
  if (!inv) return "";
  if (key == "MinSoc") return std::to_string(inv->min_soc);
  if (key == "MinSocOnGrid") return std::to_string(inv->min_soc_on_grid);
  if (key == "MaxSoc") return std::to_string(inv->max_soc);
  if (key == "ExportLimit") return std::to_string(int(inv->export_limit_w));
  if (key == "WorkMode") return inv->work_mode;
  if (key == "GridCode") return inv->grid_code;
  return "";
}

void Simulator::fail_next(int count, int code) {
  std::lock_guard lock(mutex_);
  for (int i = 0; i < count; ++i) forced_.push_back(code);
}

void Simulator::outage(int code) {
  std::lock_guard lock(mutex_);
  outage_ = code;
}

Quota Simulator::quota() {
  std::lock_guard lock(mutex_);
  return quota_locked(clock_.now());
}

Quota Simulator::quota_locked(TimePoint now) {
  // The account's count starts again at 00:00 UTC.
  auto day = to_ms(now) / 86'400'000;
  if (day != quota_day_) {
    quota_day_ = day;
    quota_used_ = 0;
  }
  return {options_.daily_calls_per_inverter * int(inverters_.size()), quota_used_};
}

Simulator::Inverter* Simulator::device_locked(const std::string& sn, Reply& err) {
  if (sn.empty()) {
    err = error(kBodyInvalid, "request body parameters invalid: sn is required");
    return nullptr;
  }
  auto* inv = find_locked(sn);
  if (!inv) {
    err = error(kBodyInvalid,
                "request body parameters invalid: no device " + sn + " in this account");
    return nullptr;
  }
  advance_locked(*inv, clock_.now());
  return inv;
}

// Built in the reply's own arena (`sp`): an account's batch is thousands of small objects.
json::object Simulator::real_time_locked(Inverter& inv, const std::set<std::string>& wanted,
                                         const json::storage_ptr& sp) {
  // An inverter that stopped uploading: the cloud serves what it sent last.
  if (auto f = frozen_.find(inv.cfg.sn); f != frozen_.end() && !f->second.empty())
    return json::parse(f->second, sp).as_object();
  const auto& st = inv.site->state();
  auto time = inv.cal.stamp_with_zone(inv.site->now());
  json::array datas(sp);
  for (const auto& [name, value] : variable_values(inv.cfg, st, inv.site->counters(), today_of(inv),
                                                   inv.cfg.site.battery.capacity_wh))
    if (wanted.empty() || wanted.contains(name)) datas.push_back(datum(name, value, time, sp));
  json::object o(sp);
  o["deviceSN"] = inv.cfg.sn;
  o["time"] = time;
  o["datas"] = std::move(datas);
  if (auto f = frozen_.find(inv.cfg.sn); f != frozen_.end()) f->second = json::serialize(o);
  return o;
}

std::shared_ptr<net::Router> Simulator::routes() {
  auto r = std::make_shared<net::Router>();
  enum class Kind { Query, Write };
  using Fn = Routes::Fn;

  // Authentication, pacing and quota in the cloud's order, then the interface itself.
  auto api = [this](std::string path, Kind kind, bool post, Fn fn) {
    auto handler = [this, path, kind, post, fn](net::ServerRequest& req) -> net::ServerResponse {
      {
        std::lock_guard lock(mutex_);
        if (!forced_.empty() || outage_) {
          int code = outage_;
          if (!code) {
            code = forced_.front();
            forced_.pop_front();
          }
          if (code < 1000)
            return net::ServerResponse::text(
                code, code == 429 ? "Too Many Requests" : "Bad Gateway or Unavailable");
          return envelope(error(code, code == 41200   ? "Failed to load data"
                                      : code == 41203 ? "timeout"
                                                      : "program branch not processed"));
        }
      }
      for (const char* h : {"timestamp", "signature", "lang"})
        if (req.header(h).empty())
          return envelope(
              error(kHeaderInvalid, std::string("request header parameters missing: ") + h));
      auto token = std::string(req.header("token"));
      bool bearer = !req.header("Authorization").empty();
      if (token.empty() && !bearer)
        return envelope(error(kHeaderInvalid, "request header parameters missing: token"));
      if (!token.empty() && bearer)
        return envelope(error(kHeaderInvalid, "send either token or Authorization, not both"));
      auto now = clock_.now();
      if (bearer) {
        // OAuth mode: the access token takes the API key's place, in the signature too
        // (foxess.md B.2).
        auto auth = std::string(req.header("Authorization"));
        if (!auth.starts_with("Bearer "))
          return envelope(error(kHeaderInvalid, "Authorization must be 'Bearer <access token>'"));
        token = auth.substr(7);
        std::lock_guard lock(mutex_);
        auto it = access_tokens_.find(token);
        if (it == access_tokens_.end()) return envelope(error(kTokenInvalid, "token invalid"));
        if (now >= it->second) return envelope(error(kSignatureExpired, "token expired"));
      } else if (token != options_.api_key) {
        return envelope(error(kTokenInvalid, "token invalid"));
      }
      auto ts_text = std::string(req.header("timestamp"));
      std::int64_t ts = 0;
      auto [end, ec] = std::from_chars(ts_text.data(), ts_text.data() + ts_text.size(), ts);
      if (ec != std::errc() || end != ts_text.data() + ts_text.size())
        return envelope(error(kHeaderInvalid, "timestamp must be epoch milliseconds"));
      auto wall = options_.wall_clock ? options_.wall_clock->now() : now;
      if (std::llabs(ts - to_ms(wall)) > options_.max_skew.count())
        return envelope(error(kSignatureExpired, "expired signature"));
      if (req.header("signature") != sign(path, token, ts))
        return envelope(
            error(kHeaderInvalid, "Parameter could not be parsed correctly illegal signature"));
      json::object body;
      if (post) {
        auto parsed = net::parse_json(req.body, "body");
        if (!parsed || !parsed->is_object())
          return envelope(error(kBodyInvalid,
                                "request body parameters invalid: a JSON object is "
                                "required"));
        body = parsed->as_object();
      }
      {
        std::lock_guard lock(mutex_);
        if (auto q = quota_locked(now); q.used >= q.total) {
          ++over_limit_;
          return envelope(error(kTooFrequent, "requests too frequent: the daily quota is used up"));
        }
        auto gap = kind == Kind::Query ? options_.query_gap : options_.write_gap;
        auto last = last_call_.find(path);
        if (last != last_call_.end() && now - last->second < gap) {
          ++over_limit_;
          return envelope(error(kTooFrequent, "requests too frequent"));
        }
        last_call_[path] = now;
        ++quota_used_;
      }
      return envelope(fn(req, body));
    };
    return sim::with_faults(http_->gate(), faults_, requests_,
                            {[] { return envelope(error(41200, "Failed to load data")); }, {}},
                            handler);
  };
  Routes sections;
  sections.get = [&](std::string path, Fn fn) { r->get(path, api(path, Kind::Query, false, fn)); };
  sections.post_query = [&](std::string path, Fn fn) {
    r->post(path, api(path, Kind::Query, true, fn));
  };
  sections.post_write = [&](std::string path, Fn fn) {
    r->post(path, api(path, Kind::Write, true, fn));
  };

  plant_routes(sections);
  device_routes(sections);
  setting_routes(sections);
  history_routes(sections);

  add_oauth_routes(*r);

  sim::set_fallbacks(
      *r, http_->gate(), requests_,
      [] {
        return net::ServerResponse::json(
            404, R"({"timestamp":0,"status":404,"error":"Not Found","path":""})");
      },
      [] {
        return net::ServerResponse::json(
            405, R"({"timestamp":0,"status":405,"error":"Method Not Allowed","path":""})");
      });
  return r;
}

}  // namespace sb::foxess

namespace sb::foxess {

namespace {

// Query parameters, and those of a form body (the seed's templates put them in the query).
}  // namespace

void Simulator::add_oauth_routes(net::Router& r) {
  using sim::oauth_error;
  using sim::oauth_params;
  using Handler = std::function<net::ServerResponse(net::ServerRequest&)>;
  auto wrap = [this](Handler h) {
    return sim::with_faults(
        http_->gate(), faults_, requests_,
        {[] { return oauth_error(503, "temporarily_unavailable", "try again later"); }, {}}, h);
  };
  auto client_ok = [this](const std::map<std::string, std::string>& p) {
    auto id = p.find("client_id"), secret = p.find("client_secret");
    return id != p.end() && secret != p.end() && id->second == options_.oauth_client_id &&
           secret->second == options_.oauth_client_secret;
  };
  // The default user approves at once: the page redirects with a code (foxess.md §2.3 step 2).
  r.get("/public/auth/index.html", wrap([this](net::ServerRequest& req) {
          auto p = oauth_params(req);
          if (p["response_type"] != "code")
            return net::ServerResponse::text(
                400, "<html><body>response_type must be code</body></html>", "text/html");
          if (p["client_id"] != options_.oauth_client_id)
            return net::ServerResponse::text(
                400, "<html><body>unknown client_id '" + p["client_id"] + "'</body></html>",
                "text/html");
          auto uri = p["redirect_uri"];
          if (!uri.starts_with("http://") && !uri.starts_with("https://"))
            return net::ServerResponse::text(
                400, "<html><body>redirect_uri must be an http(s) URL</body></html>", "text/html");
          return sim::code_redirect(uri, issue_code(uri), p);
        }));
  auto token_reply = [this](const std::string& scope) {
    auto access = new_token("fat-"), refresh = new_token("frt-");
    access_tokens_[access] = clock_.now() + options_.access_token_life;
    refresh_tokens_[refresh] = true;
    return net::ServerResponse::json(
        200, net::to_json(json::object{{"access_token", access},
                                       {"token_type", "Bearer"},
                                       {"expires_in", options_.access_token_life.count() / 1000},
                                       {"refresh_token", refresh},
                                       {"scope", scope}}));
  };
  // What the token endpoints check first: the grant type, then the app.
  auto refused = [client_ok](std::map<std::string, std::string>& p,
                             const std::string& grant) -> std::optional<net::ServerResponse> {
    if (p["grant_type"] != grant)
      return oauth_error(400, "unsupported_grant_type", "grant_type must be " + grant);
    if (!client_ok(p))
      return oauth_error(401, "invalid_client", "wrong client_id or client_secret");
    return std::nullopt;
  };
  auto token = wrap([this, refused, token_reply](net::ServerRequest& req) {
    auto p = oauth_params(req);
    if (auto no = refused(p, "authorization_code")) return std::move(*no);
    std::lock_guard lock(mutex_);
    auto it = codes_.find(p["code"]);
    if (it == codes_.end() || clock_.now() >= it->second.expires)
      return oauth_error(400, "invalid_grant", "the code is unknown, used or expired");
    if (p.contains("redirect_uri") && p["redirect_uri"] != it->second.redirect_uri)
      return oauth_error(400, "invalid_grant", "redirect_uri differs from the authorization's");
    codes_.erase(it);  // single use
    return token_reply(p["scope"]);
  });
  r.post("/oauth2/token", token);
  r.get("/oauth2/token", token);
  auto refresh = wrap([this, refused, token_reply](net::ServerRequest& req) {
    auto p = oauth_params(req);
    if (auto no = refused(p, "refresh_token")) return std::move(*no);
    std::lock_guard lock(mutex_);
    auto it = refresh_tokens_.find(p["refresh_token"]);
    if (it == refresh_tokens_.end() || !it->second)
      return oauth_error(400, "invalid_grant", "the refresh token is unknown or was replaced");
    it->second = false;  // refresh tokens rotate: the old one is spent
    return token_reply("");
  });
  r.post("/oauth2/refresh", refresh);
  r.get("/oauth2/refresh", refresh);
  auto revoke = wrap([this, client_ok](net::ServerRequest& req) {
    auto p = oauth_params(req);
    if (!client_ok(p))
      return oauth_error(401, "invalid_client", "wrong client_id or client_secret");
    std::lock_guard lock(mutex_);
    access_tokens_.erase(p["access_token"]);
    return net::ServerResponse::json(200, R"({"errno":0,"msg":"success"})");
  });
  r.post("/oauth2/revoke", revoke);
  r.get("/oauth2/revoke", revoke);
}

}  // namespace sb::foxess
