#include "vendors/foxess/simulator.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <functional>
#include <set>

#include "net/json.hpp"
#include "sim/http_faults.hpp"
#include "vendors/foxess/signature.hpp"
#include "vendors/foxess/variables.hpp"

namespace sb::foxess {

namespace json = boost::json;
using namespace std::chrono;

struct Simulator::Row {
  TimePoint time;
  sim::State state;
  sim::Counters counters;
};

struct Simulator::Inverter {
  SimInverter cfg;
  std::string station_id, station_name, module_sn;
  std::unique_ptr<sim::Site> site;
  sim::Calendar cal;
  TimePoint start;
  sim::Counters start_counters;
  int min_soc = 10, min_soc_on_grid = 10, max_soc = 100;
  double export_limit_w = 0;
  std::string work_mode = "SelfUse";
  std::string grid_code = "Germany-VDE4105";
  std::deque<Row> rows;  // every 5 minutes, the last 10 days
  TimePoint next_row;
  std::map<std::int64_t, sim::Counters> hourly;  // counters at each hour's start
  explicit Inverter(const std::string& zone) : cal(zone) {}

  /// The lifetime counters at `t`: now's for now or later; from the hourly ledger since the
  /// start; before the start, the lifetime spread evenly over four years.
  sim::Counters counters_at(TimePoint t) const {
    if (t >= site->now()) return site->counters();
    if (t <= start) {
      double days = std::chrono::duration<double, std::ratio<86400>>(start - t).count();
      return sim::minus(start_counters, sim::scaled(start_counters, std::min(1.0, days / 1460.0)));
    }
    auto it = hourly.upper_bound(to_ms(t));
    if (it != hourly.begin()) --it;
    return it->second;
  }
  /// Energy since local midnight of `t`, for a row with the counters `c` at `t`.
  sim::Counters today(TimePoint t, const sim::Counters& c) const {
    return sim::minus(c, counters_at(cal.midnight(t)));
  }
};

namespace {

constexpr int kSuccess = 0;
constexpr int kHeaderInvalid = 40256;
constexpr int kBodyInvalid = 40257;
constexpr int kTooFrequent = 40400;
constexpr int kTokenInvalid = 41808;
constexpr int kSignatureExpired = 41809;
constexpr Millis kRowStep = minutes(5);
constexpr auto kKeepRows = hours(24 * 10);

// An errno answer, or the `result` of a success.
struct Reply {
  int err = kSuccess;
  std::string msg = "success";
  json::value result = json::object{};
};

Reply error(int err, std::string msg) {
  return Reply{err, std::move(msg), nullptr};
}

net::ServerResponse envelope(const Reply& r) {
  json::object o{{"errno", r.err}, {"msg", r.msg}};
  if (r.err == kSuccess) o["result"] = r.result;
  return net::ServerResponse::json(200, net::to_json(o));
}

// What the inverter put out on its AC side: PV that did not charge the battery, plus
// discharge ("Cumulative power generation").
double ac_yield_wh(const sim::Counters& c) {
  return c.pv_wh - (c.battery_charge_wh - c.charge_from_grid_wh) + c.battery_discharge_wh;
}

double round_to(double v, double step) {
  return std::round(v / step) * step;
}

// Values of every variable the inverter has, in the variable table's units.
std::vector<std::pair<std::string, double>> variable_values(const SimInverter& cfg,
                                                            const sim::State& st,
                                                            const sim::Counters& c,
                                                            const sim::Counters& today,
                                                            double capacity_wh) {
  std::vector<std::pair<std::string, double>> v;
  auto kw = [](double w) { return round_to(w / 1000.0, 0.001); };
  v.emplace_back("todayYield", round_to(ac_yield_wh(today) / 1000.0, 0.1));
  v.emplace_back("pvPower", kw(st.pv_w));
  for (std::size_t i = 0; i < st.strings.size(); ++i) {
    auto n = "pv" + std::to_string(i + 1);
    v.emplace_back(n + "Volt", round_to(st.strings[i].voltage_v, 0.1));
    v.emplace_back(n + "Current", round_to(st.strings[i].current_a, 0.1));
    v.emplace_back(n + "Power", kw(st.strings[i].power_w));
  }
  double ac_w = st.pv_w + st.battery_w;
  const char* phases[] = {"R", "S", "T"};
  for (int p = 0; p < 3; ++p) {
    double u = st.ac_voltage_v + 0.6 * p;
    v.emplace_back(std::string(phases[p]) + "Current", round_to(ac_w / 3 / u, 0.1));
    v.emplace_back(std::string(phases[p]) + "Volt", round_to(u, 0.1));
    v.emplace_back(std::string(phases[p]) + "Freq", round_to(st.frequency_hz, 0.01));
    v.emplace_back(std::string(phases[p]) + "Power", kw(ac_w / 3));
  }
  v.emplace_back("ambientTemperation", round_to(8 + st.irradiance_wm2 / 60, 0.1));
  v.emplace_back("boostTemperation", round_to(25 + st.pv_w / 400, 0.1));
  v.emplace_back("invTemperation", round_to(28 + std::abs(ac_w) / 500, 0.1));
  v.emplace_back("chargeTemperature", round_to(24 + std::abs(st.battery_w) / 600, 0.1));
  v.emplace_back("dspTemperature", round_to(35 + std::abs(ac_w) / 800, 0.1));
  v.emplace_back("loadsPower", kw(st.load_w));
  for (const char* p : phases) v.emplace_back(std::string("loadsPower") + p, kw(st.load_w / 3));
  v.emplace_back("generationPower", kw(ac_w));
  v.emplace_back("feedinPower", kw(std::max(0.0, -st.grid_w)));
  v.emplace_back("gridConsumptionPower", kw(std::max(0.0, st.grid_w)));
  v.emplace_back("meterPower", kw(st.grid_w));
  v.emplace_back("meterPower2", 0.0);
  for (const char* p : phases) v.emplace_back(std::string("meterPower") + p, kw(st.grid_w / 3));
  v.emplace_back("ReactivePower", 0.0);
  v.emplace_back("PowerFactor", 1.0);
  v.emplace_back("generation", round_to(ac_yield_wh(c) / 1000.0, 0.1));
  v.emplace_back("runningState", 163);  // on-grid
  v.emplace_back("currentFault", 0);
  v.emplace_back("currentFaultCount", 0);
  v.emplace_back("gridConsumption", round_to(c.grid_import_wh / 1000.0, 0.1));
  v.emplace_back("loads", round_to(c.load_wh / 1000.0, 0.1));
  v.emplace_back("feedin", round_to(c.grid_export_wh / 1000.0, 0.1));
  if (!cfg.has_battery) return v;
  for (const char* p : phases) {
    v.emplace_back(std::string("epsCurrent") + p, 0.0);
    v.emplace_back(std::string("epsVolt") + p, 0.0);
    v.emplace_back(std::string("epsPower") + p, 0.0);
  }
  v.emplace_back("epsPower", 0.0);
  v.emplace_back("batTemperature", round_to(st.battery_temperature_c, 0.1));
  v.emplace_back("invBatVolt", round_to(st.battery_voltage_v, 0.1));
  v.emplace_back("invBatCurrent", round_to(st.battery_current_a, 0.1));
  v.emplace_back("invBatPower", kw(st.battery_w));
  v.emplace_back("batChargePower", kw(std::max(0.0, -st.battery_w)));
  v.emplace_back("batDischargePower", kw(std::max(0.0, st.battery_w)));
  v.emplace_back("batVolt", round_to(st.battery_voltage_v, 0.1));
  v.emplace_back("batCurrent", round_to(st.battery_current_a, 0.1));
  v.emplace_back("SoC", std::round(st.soc_percent));
  v.emplace_back("SOH", std::round(st.soh_percent));
  v.emplace_back("ResidualEnergy", round_to(st.soc_percent / 100 * capacity_wh / 1000, 0.01));
  v.emplace_back("batStatus", 1);
  v.emplace_back("batStatusV2", 1);
  v.emplace_back("energyThroughput", std::round(c.battery_charge_wh + c.battery_discharge_wh));
  v.emplace_back("chargeEnergyToTal", round_to(c.battery_charge_wh / 1000.0, 0.1));
  v.emplace_back("dischargeEnergyToTal", round_to(c.battery_discharge_wh / 1000.0, 0.1));
  return v;
}

std::string utc_text(TimePoint t) {
  auto s = format_iso8601(time_point_cast<seconds>(t));  // "2026-11-21T14:05:00Z"
  s = s.substr(0, 19);
  s[10] = ' ';
  return s;
}

json::object datum(const std::string& name, double value, const std::string& time) {
  const auto* var = find_variable(name);
  return json::object{{"variable", name},
                      {"unit", var ? var->unit : ""},
                      {"name", var ? var->names.at("en") : name},
                      {"value", value},
                      {"time", time}};
}

// Paging of the list interfaces: currentPage >= 1, pageSize >= 10 (and <= max when given).
struct Page {
  int current = 1, size = 10;
};

std::optional<Page> paging(const json::object& body, int max_size, std::string& why) {
  Page p;
  auto cp = body.if_contains("currentPage");
  auto ps = body.if_contains("pageSize");
  if (!cp || !ps) {
    why = "currentPage and pageSize are required";
    return std::nullopt;
  }
  auto c = net::as_double(*cp), s = net::as_double(*ps);
  if (!c || !s || *c != std::floor(*c) || *s != std::floor(*s) || *c < 1 || *s < 10 ||
      (max_size > 0 && *s > max_size)) {
    why = "currentPage must be >= 1 and pageSize >= 10" +
          (max_size > 0 ? " and <= " + std::to_string(max_size) : std::string());
    return std::nullopt;
  }
  p.current = int(*c);
  p.size = int(*s);
  return p;
}

template <class T, class F>
json::object page_of(const std::vector<T>& items, Page p, F to_json) {
  json::array data;
  std::size_t from = std::size_t(p.current - 1) * std::size_t(p.size);
  for (std::size_t i = from; i < items.size() && i < from + std::size_t(p.size); ++i)
    data.push_back(to_json(items[i]));
  return json::object{
      {"currentPage", p.current}, {"pageSize", p.size}, {"total", items.size()}, {"data", data}};
}

std::optional<std::string> string_field(const json::object& o, const char* key) {
  auto v = o.if_contains(key);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string(v->as_string());
}

std::optional<std::int64_t> int_field(const json::object& o, const char* key) {
  auto v = o.if_contains(key);
  if (!v) return std::nullopt;
  auto d = net::as_double(*v);
  if (!d || *d != std::floor(*d)) return std::nullopt;
  return std::int64_t(*d);
}

// Which variables a request asked for: all when absent or empty; unknown names are refused.
std::optional<std::set<std::string>> wanted_variables(const json::object& body, std::string& why) {
  std::set<std::string> out;
  auto v = body.if_contains("variables");
  if (!v) return out;
  if (!v->is_array()) {
    why = "variables must be an array of strings";
    return std::nullopt;
  }
  for (const auto& x : v->as_array()) {
    if (!x.is_string() || !find_variable(std::string(x.as_string()))) {
      why = "unknown variable " +
            (x.is_string() ? "'" + std::string(x.as_string()) + "'" : net::to_json(x));
      return std::nullopt;
    }
    out.insert(std::string(x.as_string()));
  }
  return out;
}

struct SettingSpec {
  const char* unit;
  double precision, min, max;
};

const std::map<std::string, SettingSpec>& setting_specs() {
  static const std::map<std::string, SettingSpec> m = {
      {"ExportLimit", {"W", 1, 0, 30000}}, {"MinSoc", {"%", 1, 10, 100}},
      {"MinSocOnGrid", {"%", 1, 10, 100}}, {"MaxSoc", {"%", 1, 10, 100}},
      {"GridCode", {"", 1, 0, 0}},         {"WorkMode", {"", 1, 0, 0}}};
  return m;
}

// A plant's zone is its inverters' (sites share the plant's place).
std::string zone_of(const SimPlant& plant) {
  return plant.inverters.empty() ? "Europe/Berlin" : plant.inverters[0].site.timezone;
}

const std::vector<std::string> kWorkModes = {"SelfUse", "Feedin", "Backup"};
const std::vector<std::string> kGridCodes = {"Germany-VDE4105", "Austria-TOR", "UK-G99",
                                             "Netherlands-NEN", "Italy-CEI021"};

}  // namespace

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
    : clock_(clock),
      options_(std::move(options)),
      faults_(faults),
      http_(std::make_unique<sim::HttpEndpoint>(executor)) {
  if (options_.plants.empty()) options_.plants = make_account(1, 1);
  auto now = clock_.now();
  int n = 0;
  for (const auto& plant : options_.plants)
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

std::shared_ptr<net::Router> Simulator::routes() {
  auto r = std::make_shared<net::Router>();
  enum class Kind { Query, Write };
  using Fn = std::function<Reply(net::ServerRequest&, const json::object& body)>;

  // Authentication, pacing and quota in the cloud's order, then the interface itself.
  auto api = [this](std::string path, Kind kind, bool post, Fn fn) {
    auto handler = [this, path, kind, post, fn](net::ServerRequest& req) -> net::ServerResponse {
      {
        std::lock_guard lock(mutex_);
        if (!forced_.empty()) {
          int code = forced_.front();
          forced_.pop_front();
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
      if (bearer || token != options_.api_key)
        return envelope(error(kTokenInvalid, "token invalid"));
      auto ts_text = std::string(req.header("timestamp"));
      std::int64_t ts = 0;
      auto [end, ec] = std::from_chars(ts_text.data(), ts_text.data() + ts_text.size(), ts);
      if (ec != std::errc() || end != ts_text.data() + ts_text.size())
        return envelope(error(kHeaderInvalid, "timestamp must be epoch milliseconds"));
      auto now = clock_.now();
      if (std::llabs(ts - to_ms(now)) > options_.max_skew.count())
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
          ++rate_limited_;
          return envelope(error(kTooFrequent, "requests too frequent: the daily quota is used up"));
        }
        auto gap = kind == Kind::Query ? options_.query_gap : options_.write_gap;
        auto last = last_call_.find(path);
        if (last != last_call_.end() && now - last->second < gap) {
          ++rate_limited_;
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
  auto get = [&](std::string path, Fn fn) { r->get(path, api(path, Kind::Query, false, fn)); };
  auto post_query = [&](std::string path, Fn fn) {
    r->post(path, api(path, Kind::Query, true, fn));
  };
  auto post_write = [&](std::string path, Fn fn) {
    r->post(path, api(path, Kind::Write, true, fn));
  };

  // The inverter a request names (query `sn`, or body `sn` / `deviceSN`), brought up to now.
  auto device = [this](const std::string& sn, Reply& err) -> Inverter* {
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
  };
  auto today_of = [](Inverter& inv) { return inv.today(inv.site->now(), inv.site->counters()); };
  auto real_time = [this, today_of](Inverter& inv, const std::set<std::string>& wanted) {
    const auto& st = inv.site->state();
    auto time = inv.cal.stamp_with_zone(inv.site->now());
    json::array datas;
    for (const auto& [name, value] : variable_values(
             inv.cfg, st, inv.site->counters(), today_of(inv), inv.cfg.site.battery.capacity_wh))
      if (wanted.empty() || wanted.contains(name)) datas.push_back(datum(name, value, time));
    return json::object{{"deviceSN", inv.cfg.sn}, {"time", time}, {"datas", datas}};
  };

  // --- Power stations ---
  post_query("/op/v0/plant/list", [this](net::ServerRequest&, const json::object& body) {
    std::string why;
    auto p = paging(body, 0, why);
    if (!p) return error(kBodyInvalid, "request body parameters invalid: " + why);
    std::lock_guard lock(mutex_);
    return Reply{kSuccess, "success", page_of(options_.plants, *p, [](const SimPlant& pl) {
                   return json::object{{"stationID", pl.station_id},
                                       {"name", pl.name},
                                       {"ianaTimezone", zone_of(pl)}};
                 })};
  });
  get("/op/v0/plant/detail", [this](net::ServerRequest& req, const json::object&) {
    auto id = req.query["id"];
    std::lock_guard lock(mutex_);
    for (const auto& pl : options_.plants) {
      if (pl.station_id != id) continue;
      json::array modules;
      double capacity_w = 0;
      for (const auto& inv : inverters_)
        if (inv->station_id == id) {
          modules.push_back(json::object{{"moduleSN", inv->module_sn}, {"deviceSN", inv->cfg.sn}});
          for (const auto& s : inv->cfg.site.strings) capacity_w += s.peak_w;
        }
      auto start = inverters_.empty() ? clock_.now() : inverters_.front()->start;
      return Reply{kSuccess, "success",
                   json::object{{"stationName", pl.name},
                                {"country", pl.country},
                                {"city", pl.city},
                                {"address", pl.address},
                                {"createDate", std::to_string(to_ms(start) - 86'400'000LL * 1460)},
                                {"postcode", pl.postcode},
                                {"capacity", capacity_w / 1000},
                                {"timezone", zone_of(pl)},
                                {"user", json::object{{"name", options_.user_name},
                                                      {"email", options_.user_email},
                                                      {"phone", ""}}},
                                {"installer", json::object{{"name", "Sonnenschein Solar GmbH"},
                                                           {"email", "service@example.org"},
                                                           {"phone", "+49 30 1234567"}}},
                                {"modules", modules}}};
    }
    return error(kBodyInvalid, "request body parameters invalid: no station " +
                                   (id.empty() ? std::string("(id is required)") : id));
  });

  // --- Inverters ---
  post_query("/op/v0/device/list", [this](net::ServerRequest&, const json::object& body) {
    std::string why;
    auto p = paging(body, 0, why);
    if (!p) return error(kBodyInvalid, "request body parameters invalid: " + why);
    std::lock_guard lock(mutex_);
    std::vector<const Inverter*> all;
    for (const auto& inv : inverters_) all.push_back(inv.get());
    return Reply{kSuccess, "success", page_of(all, *p, [](const Inverter* inv) {
                   return json::object{{"deviceSN", inv->cfg.sn},
                                       {"moduleSN", inv->module_sn},
                                       {"stationID", inv->station_id},
                                       {"stationName", inv->station_name},
                                       {"status", 1},
                                       {"hasPV", true},
                                       {"hasBattery", inv->cfg.has_battery},
                                       {"deviceType", inv->cfg.device_type},
                                       {"productType", inv->cfg.product_type}};
                 })};
  });
  get("/op/v0/device/detail", [this, device](net::ServerRequest& req, const json::object&) {
    std::lock_guard lock(mutex_);
    Reply err;
    auto* inv = device(req.query["sn"], err);
    if (!inv) return err;
    json::array batteries;
    if (inv->cfg.has_battery)
      batteries.push_back(
          json::object{{"batterySN", "66BT" + inv->cfg.sn.substr(6)},
                       {"type", "master"},
                       {"version", "1.014"},
                       {"model", "ECS4100"},
                       {"capicty", std::to_string(int(inv->cfg.site.battery.capacity_wh))}});
    return Reply{kSuccess, "success",
                 json::object{{"deviceSN", inv->cfg.sn},
                              {"moduleSN", inv->module_sn},
                              {"stationID", inv->station_id},
                              {"stationName", inv->station_name},
                              {"afciVersion", ""},
                              {"managerVersion", "1.59"},
                              {"masterVersion", "1.55"},
                              {"slaveVersion", "1.02"},
                              {"hardwareVersion", "--"},
                              {"status", 1},
                              {"capacity", int(inv->cfg.site.inverter_max_w / 1000)},
                              {"deviceType", inv->cfg.device_type},
                              {"productType", inv->cfg.product_type},
                              {"hasBattery", inv->cfg.has_battery},
                              {"hasPV", true},
                              {"function", json::object{{"scheduler", inv->cfg.has_battery}}},
                              {"batteryList", batteries}}};
  });
  get("/op/v0/device/variable/get", [](net::ServerRequest&, const json::object&) {
    json::array out;
    for (const auto& v : variables()) {
      json::object names;
      for (const char* lang : {"zh_CN", "en", "de", "pt", "fr", "pl"})
        if (v.names.contains(lang)) names[lang] = v.names.at(lang);
      out.push_back(json::object{{v.name, json::object{{"unit", v.unit}, {"name", names}}}});
    }
    return Reply{kSuccess, "success", out};
  });
  post_query(
      "/op/v0/device/real/query", [this, real_time](net::ServerRequest&, const json::object& body) {
        std::string why;
        auto wanted = wanted_variables(body, why);
        if (!wanted) return error(kBodyInvalid, "request body parameters invalid: " + why);
        auto sn = string_field(body, "sn");
        std::lock_guard lock(mutex_);
        json::array out;
        for (auto& inv : inverters_) {
          if (sn && !sn->empty() && inv->cfg.sn != *sn) continue;
          advance_locked(*inv, clock_.now());
          out.push_back(real_time(*inv, *wanted));
        }
        if (sn && !sn->empty() && out.empty())
          return error(kBodyInvalid,
                       "request body parameters invalid: no device " + *sn + " in this account");
        return Reply{kSuccess, "success", out};
      });
  post_query(
      "/op/v1/device/real/query", [this, real_time](net::ServerRequest&, const json::object& body) {
        std::string why;
        auto wanted = wanted_variables(body, why);
        if (!wanted) return error(kBodyInvalid, "request body parameters invalid: " + why);
        auto sns = body.if_contains("sns");
        if (!sns || !sns->is_array() || sns->as_array().empty())
          return error(kBodyInvalid, "request body parameters invalid: sns is required");
        if (sns->as_array().size() > 50)
          return error(kBodyInvalid, "request body parameters invalid: at most 50 sns per request");
        std::lock_guard lock(mutex_);
        json::array out;
        for (const auto& s : sns->as_array()) {
          if (!s.is_string())
            return error(kBodyInvalid, "request body parameters invalid: sns are strings");
          // Only devices of this account are returned; others are left out.
          auto* inv = find_locked(std::string(s.as_string()));
          if (!inv) continue;
          advance_locked(*inv, clock_.now());
          out.push_back(real_time(*inv, *wanted));
        }
        return Reply{kSuccess, "success", out};
      });
  get("/op/v0/device/generation",
      [this, device, today_of](net::ServerRequest& req, const json::object&) {
        std::lock_guard lock(mutex_);
        Reply err;
        auto* inv = device(req.query["sn"], err);
        if (!inv) return err;
        auto now_c = inv->site->counters();
        auto f = inv->cal.fields(inv->site->now());
        auto month_start = inv->cal.at(f.year, f.month, 1);
        auto month_base = inv->counters_at(month_start);
        auto r1 = [](double wh) { return round_to(wh / 1000.0, 0.1); };
        return Reply{kSuccess, "success",
                     json::object{{"today", r1(ac_yield_wh(today_of(*inv)))},
                                  {"month", r1(ac_yield_wh(sim::minus(now_c, month_base)))},
                                  {"cumulative", r1(ac_yield_wh(now_c))}}};
      });

  // --- Battery SoC and device settings ---
  get("/op/v0/device/battery/soc/get", [this, device](net::ServerRequest& req,
                                                      const json::object&) {
    std::lock_guard lock(mutex_);
    Reply err;
    auto* inv = device(req.query["sn"], err);
    if (!inv) return err;
    return Reply{kSuccess, "success",
                 json::object{{"minSoc", inv->min_soc}, {"minSocOnGrid", inv->min_soc_on_grid}}};
  });
  post_write("/op/v0/device/battery/soc/set",
             [this, device](net::ServerRequest&, const json::object& body) {
               std::lock_guard lock(mutex_);
               Reply err;
               auto* inv = device(string_field(body, "sn").value_or(""), err);
               if (!inv) return err;
               auto a = int_field(body, "minSoc"), b = int_field(body, "minSocOnGrid");
               if (!a || !b || *a < 10 || *a > 100 || *b < 10 || *b > 100)
                 return error(kBodyInvalid,
                              "request body parameters invalid: minSoc and "
                              "minSocOnGrid must be integers within 10..100");
               inv->min_soc = int(*a);
               inv->min_soc_on_grid = int(*b);
               inv->site->set_reserve_soc(double(*b));
               return Reply{};
             });
  post_query("/op/v0/device/setting/get",
             [this, device](net::ServerRequest&, const json::object& body) {
               auto key = string_field(body, "key").value_or("");
               auto spec = setting_specs().find(key);
               if (spec == setting_specs().end())
                 return error(kBodyInvalid,
                              "request body parameters invalid: key must be one of "
                              "ExportLimit, MinSoc, MinSocOnGrid, MaxSoc, GridCode, "
                              "WorkMode");
               std::string sn;
               {
                 std::lock_guard lock(mutex_);
                 Reply err;
                 auto* inv = device(string_field(body, "sn").value_or(""), err);
                 if (!inv) return err;
                 sn = inv->cfg.sn;
               }
               json::object out{{"value", setting(sn, key)},
                                {"unit", spec->second.unit},
                                {"precision", spec->second.precision}};
               if (key == "WorkMode" || key == "GridCode") {
                 json::array list;
                 for (const auto& m : key == "WorkMode" ? kWorkModes : kGridCodes)
                   list.push_back(json::string(m));
                 out["enumList"] = list;
               } else {
                 out["range"] = json::object{{"min", spec->second.min}, {"max", spec->second.max}};
               }
               return Reply{kSuccess, "success", out};
             });
  post_write(
      "/op/v0/device/setting/set", [this, device](net::ServerRequest&, const json::object& body) {
        auto key = string_field(body, "key").value_or("");
        auto value = string_field(body, "value");
        auto spec = setting_specs().find(key);
        if (spec == setting_specs().end() || !value)
          return error(kBodyInvalid,
                       "request body parameters invalid: sn, key (one of "
                       "ExportLimit, MinSoc, MinSocOnGrid, MaxSoc, GridCode, "
                       "WorkMode) and value (a string) are required");
        std::lock_guard lock(mutex_);
        Reply err;
        auto* inv = device(string_field(body, "sn").value_or(""), err);
        if (!inv) return err;
        if (key == "WorkMode" || key == "GridCode") {
          const auto& list = key == "WorkMode" ? kWorkModes : kGridCodes;
          if (std::find(list.begin(), list.end(), *value) == list.end())
            return error(kBodyInvalid, "request body parameters invalid: " + key + " '" + *value +
                                           "' is not supported");
          if (key == "GridCode") {
            inv->grid_code = *value;
            return Reply{};
          }
          inv->work_mode = *value;
          // Backup keeps the battery for outages: no discharge; Feed-in sends PV to the
          // grid first: no charging from PV.
          std::optional<sim::WeeklyPlan> plan;
          if (*value != "SelfUse") {
            sim::WeeklyPlan p{};
            for (auto& day : p)
              day.fill(*value == "Backup" ? sim::SlotRule::NoDischarge : sim::SlotRule::NoCharge);
            plan = p;
          }
          inv->site->set_weekly_plan(plan);
          return Reply{};
        }
        double v = 0;
        auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), v);
        if (ec != std::errc() || end != value->data() + value->size() || v < spec->second.min ||
            v > spec->second.max || std::abs(v - round_to(v, spec->second.precision)) > 1e-9)
          return error(kBodyInvalid, "request body parameters invalid: " + key + " '" + *value +
                                         "' must be a number within " +
                                         std::to_string(int(spec->second.min)) + ".." +
                                         std::to_string(int(spec->second.max)));
        if (key == "MinSoc") inv->min_soc = int(v);
        if (key == "MinSocOnGrid") {
          inv->min_soc_on_grid = int(v);
          inv->site->set_reserve_soc(v);
        }
        if (key == "MaxSoc") inv->max_soc = int(v);
        if (key == "ExportLimit") inv->export_limit_w = v;
        return Reply{};
      });

  // --- Data loggers and the account ---
  post_query("/op/v0/module/list", [this](net::ServerRequest&, const json::object& body) {
    std::string why;
    auto p = paging(body, 1000, why);
    if (!p) return error(kBodyInvalid, "request body parameters invalid: " + why);
    std::lock_guard lock(mutex_);
    std::vector<const Inverter*> all;
    for (const auto& inv : inverters_) all.push_back(inv.get());
    return Reply{kSuccess, "success", page_of(all, *p, [](const Inverter* inv) {
                   return json::object{{"moduleSN", inv->module_sn},
                                       {"stationID", inv->station_id},
                                       {"status", 1},
                                       {"signal", 78}};
                 })};
  });
  get("/op/v0/user/getAccessCount", [this](net::ServerRequest&, const json::object&) {
    std::lock_guard lock(mutex_);
    auto q = quota_locked(clock_.now());
    return Reply{kSuccess, "success",
                 json::object{{"total", std::to_string(q.total)},
                              {"remaining", std::to_string(std::max(0, q.total - q.used))}}};
  });

  // --- History and reports ---
  post_query(
      "/op/v0/device/history/query", [this, device](net::ServerRequest&, const json::object& body) {
        std::string why;
        auto wanted = wanted_variables(body, why);
        if (!wanted) return error(kBodyInvalid, "request body parameters invalid: " + why);
        std::lock_guard lock(mutex_);
        Reply err;
        auto* inv = device(string_field(body, "sn").value_or(""), err);
        if (!inv) return err;
        auto now = inv->site->now();
        auto b = int_field(body, "begin"), e = int_field(body, "end");
        TimePoint from = now - hours(72), to = now;
        if (b || e) {
          if (!b || !e || *e <= *b)
            return error(kBodyInvalid,
                         "request body parameters invalid: begin and end "
                         "(epoch ms) go together, begin before end");
          if (*e - *b > 86'400'000)
            return error(kBodyInvalid,
                         "request body parameters invalid: the period is "
                         "at most 24 hours");
          from = from_ms(*b);
          to = from_ms(*e);
        }
        std::map<std::string, json::array> series;
        for (const auto& row : inv->rows) {
          if (row.time < from || row.time > to) continue;
          auto today = inv->today(row.time, row.counters);
          auto t = utc_text(row.time);
          for (const auto& [name, value] : variable_values(inv->cfg, row.state, row.counters, today,
                                                           inv->cfg.site.battery.capacity_wh))
            if (wanted->empty() || wanted->contains(name))
              series[name].push_back(json::object{{"value", value}, {"time", t}});
        }
        json::array datas;
        for (auto& [name, data] : series) {
          const auto* var = find_variable(name);
          datas.push_back(json::object{{"variable", name},
                                       {"unit", var ? var->unit : ""},
                                       {"name", var ? var->names.at("en") : name},
                                       {"data", std::move(data)}});
        }
        return Reply{kSuccess, "success",
                     json::array{json::object{{"deviceSN", inv->cfg.sn}, {"datas", datas}}}};
      });
  post_query("/op/v0/device/report/query", [this, device](net::ServerRequest&,
                                                          const json::object& body) {
    static const std::map<std::string, std::function<double(const sim::Counters&)>> kReport = {
        {"generation", [](const sim::Counters& c) { return ac_yield_wh(c); }},
        {"feedin", [](const sim::Counters& c) { return c.grid_export_wh; }},
        {"gridConsumption", [](const sim::Counters& c) { return c.grid_import_wh; }},
        {"chargeEnergyToTal", [](const sim::Counters& c) { return c.battery_charge_wh; }},
        {"dischargeEnergyToTal", [](const sim::Counters& c) { return c.battery_discharge_wh; }},
        {"loads", [](const sim::Counters& c) { return c.load_wh; }},
        {"PVEnergyTotal", [](const sim::Counters& c) { return c.pv_wh; }}};
    auto dim = string_field(body, "dimension").value_or("");
    auto year = int_field(body, "year"), month = int_field(body, "month"),
         day = int_field(body, "day");
    auto vars = body.if_contains("variables");
    if (dim != "year" && dim != "month" && dim != "day")
      return error(kBodyInvalid,
                   "request body parameters invalid: dimension must be "
                   "year, month or day");
    if (!year || *year < 2020 || *year > 2100 ||
        (dim != "year" && (!month || *month < 1 || *month > 12)) ||
        (dim == "day" && (!day || *day < 1 || *day > 31)))
      return error(kBodyInvalid,
                   "request body parameters invalid: year (>= 2020), "
                   "month (1..12) and day (1..31) as the dimension needs");
    if (!vars || !vars->is_array() || vars->as_array().empty())
      return error(kBodyInvalid,
                   "request body parameters invalid: variables is "
                   "required");
    std::lock_guard lock(mutex_);
    Reply err;
    auto* inv = device(string_field(body, "sn").value_or(""), err);
    if (!inv) return err;
    // Period boundaries in the station's zone: 12 months, the month's days or 24 hours.
    std::vector<TimePoint> edges;
    if (dim == "year") {
      for (int m = 1; m <= 13; ++m)
        edges.push_back(m <= 12 ? inv->cal.at(int(*year), m, 1)
                                : inv->cal.at(int(*year) + 1, 1, 1));
    } else if (dim == "month") {
      auto first = inv->cal.at(int(*year), int(*month), 1);
      auto next = *month == 12 ? inv->cal.at(int(*year) + 1, 1, 1)
                               : inv->cal.at(int(*year), int(*month) + 1, 1);
      for (auto t = first; t < next; t = inv->cal.next_midnight(t)) edges.push_back(t);
      edges.push_back(next);
    } else {
      auto first = inv->cal.at(int(*year), int(*month), int(*day));
      auto next = inv->cal.next_midnight(first);
      for (auto t = first; t < next; t += hours(1)) edges.push_back(t);
      edges.push_back(next);
    }
    auto counters_at = [inv](TimePoint t) { return inv->counters_at(t); };
    json::array out;
    for (const auto& v : vars->as_array()) {
      auto name = v.is_string() ? std::string(v.as_string()) : "";
      auto f = kReport.find(name);
      if (f == kReport.end())
        return error(kBodyInvalid, "request body parameters invalid: no report of '" + name + "'");
      json::array values;
      for (std::size_t i = 0; i + 1 < edges.size(); ++i)
        values.push_back(round_to(
            std::max(0.0, f->second(counters_at(edges[i + 1])) - f->second(counters_at(edges[i]))) /
                1000.0,
            0.01));
      out.push_back(json::object{{"variable", name}, {"unit", "kWh"}, {"values", values}});
    }
    return Reply{kSuccess, "success", out};
  });

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

Result<void> Simulator::listen(const std::string& host, std::uint16_t port) {
  return http_->listen(routes(), host, port);
}

std::uint16_t Simulator::port() const {
  return http_->port();
}

std::string Simulator::url() const {
  return http_->url();
}

void Simulator::stop() {
  http_->stop();
}

}  // namespace sb::foxess
