#include "vendors/foxess/simulator.hpp"

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

struct Simulator::Row {
  TimePoint time;
  sim::State state;
  sim::Counters counters;
};

struct Simulator::Inverter {
  SimInverter cfg;
  std::string station_id, station_name, module_sn;
  std::unique_ptr<sim::Site> site;
  Calendar cal;
  TimePoint start;
  sim::Counters start_counters;
  int min_soc = 10, min_soc_on_grid = 10, max_soc = 100;
  double export_limit_w = 0;
  std::string work_mode = "SelfUse";
  std::string grid_code = "Germany-VDE4105";
  // Scheduler (v0 and v1 share it), force-charge windows, device clock, peak shaving.
  bool scheduler_on = false;
  std::vector<SchedulerGroup> groups;
  struct Window {
    bool enable = false;
    int start_hour = 0, start_minute = 0, end_hour = 0, end_minute = 0;
  };
  std::array<Window, 2> force_charge{};
  Millis clock_offset{0};
  bool time_sync = true;
  double peak_import_limit_kw = 5.0;
  int peak_soc = 20;
  std::optional<double> meter_share_w;  // the plant meter's feed-in limit, this inverter's part
  std::deque<Row> rows;                 // every 5 minutes, the last 10 days
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

net::ServerResponse envelope(Reply r) {
  json::object o(r.result.storage());  // the result's arena: moving it in copies nothing
  o.emplace("errno", r.err);
  o.emplace("msg", r.msg);
  if (r.err == kSuccess) o["result"] = std::move(r.result);
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

json::object datum(const std::string& name, double value, const std::string& time,
                   json::storage_ptr sp = {}) {
  const auto* var = find_variable(name);
  json::object o(std::move(sp));
  o.reserve(5);
  o.emplace("variable", name);
  o.emplace("unit", var ? var->unit : "");
  o.emplace("name", var ? var->names.at("en") : name);
  o.emplace("value", value);
  o.emplace("time", time);
  return o;
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
  // Names the device does not report, known or not, are left out of the answer: public
  // clients ask for pv1Power..pv24Power and batTemperature_1 and take "those that exist".
  for (const auto& x : v->as_array()) {
    if (!x.is_string()) {
      why = "variables must be strings, not " + net::to_json(x);
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
  if (!plant.timezone.empty()) return plant.timezone;
  return plant.inverters.empty() ? "Europe/Berlin" : plant.inverters[0].site.timezone;
}

const std::vector<std::string> kWorkModes = {"SelfUse", "Feedin", "Backup", "PeakShaving"};
constexpr int kScheduleActive = 44096;  // protocols.md §2.3 (TonyM1958 set_charge / set_min)
constexpr int kTimeOverlap = 42023;
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

std::shared_ptr<net::Router> Simulator::routes() {
  auto r = std::make_shared<net::Router>();
  enum class Kind { Query, Write };
  using Fn = std::function<Reply(net::ServerRequest&, const json::object& body)>;

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
  // Built in the reply's own arena (`sp`): an account's batch is thousands of small objects.
  auto real_time = [this, today_of](Inverter& inv, const std::set<std::string>& wanted,
                                    const json::storage_ptr& sp) {
    // An inverter that stopped uploading: the cloud serves what it sent last.
    if (auto f = frozen_.find(inv.cfg.sn); f != frozen_.end() && !f->second.empty())
      return json::parse(f->second, sp).as_object();
    const auto& st = inv.site->state();
    auto time = inv.cal.stamp_with_zone(inv.site->now());
    json::array datas(sp);
    for (const auto& [name, value] : variable_values(
             inv.cfg, st, inv.site->counters(), today_of(inv), inv.cfg.site.battery.capacity_wh))
      if (wanted.empty() || wanted.contains(name)) datas.push_back(datum(name, value, time, sp));
    json::object o(sp);
    o["deviceSN"] = inv.cfg.sn;
    o["time"] = time;
    o["datas"] = std::move(datas);
    if (auto f = frozen_.find(inv.cfg.sn); f != frozen_.end()) f->second = json::serialize(o);
    return o;
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
    return Reply{kSuccess, "success", std::move(out)};
  });
  post_query(
      "/op/v0/device/real/query", [this, real_time](net::ServerRequest&, const json::object& body) {
        std::string why;
        auto wanted = wanted_variables(body, why);
        if (!wanted) return error(kBodyInvalid, "request body parameters invalid: " + why);
        auto sn = string_field(body, "sn");
        std::lock_guard lock(mutex_);
        json::array out(json::make_shared_resource<json::monotonic_resource>());
        for (auto& inv : inverters_) {
          if (sn && !sn->empty() && inv->cfg.sn != *sn) continue;
          advance_locked(*inv, clock_.now());
          out.push_back(real_time(*inv, *wanted, out.storage()));
        }
        if (sn && !sn->empty() && out.empty())
          return error(kBodyInvalid,
                       "request body parameters invalid: no device " + *sn + " in this account");
        return Reply{kSuccess, "success", std::move(out)};
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
        json::array out(json::make_shared_resource<json::monotonic_resource>());
        for (const auto& s : sns->as_array()) {
          if (!s.is_string())
            return error(kBodyInvalid, "request body parameters invalid: sns are strings");
          // Only devices of this account are returned; others are left out.
          auto* inv = find_locked(std::string(s.as_string()));
          if (!inv) continue;
          advance_locked(*inv, clock_.now());
          out.push_back(real_time(*inv, *wanted, out.storage()));
        }
        return Reply{kSuccess, "success", std::move(out)};
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
               apply_controls_locked(*inv);
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
               return Reply{kSuccess, "success", std::move(out)};
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
          if (inv->scheduler_on)
            return error(kScheduleActive,
                         "the work mode cannot be changed while the scheduler is enabled");
          if (*value == "PeakShaving" && !inv->cfg.has_battery)
            return error(kBodyInvalid,
                         "request body parameters invalid: peak shaving not "
                         "available on this device");
          inv->work_mode = *value;
          apply_controls_locked(*inv);
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
        apply_controls_locked(*inv);
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
    return Reply{kSuccess, "success", std::move(out)};
  });

  // --- Scheduler: v1, and the deprecated v0 over the same state (foxess.md §5.3, §5.5) ---
  auto scheduler_device = [this, device](const json::object& body, Reply& err) -> Inverter* {
    auto sn = string_field(body, "deviceSN").value_or("");
    if (sn.empty()) {
      err = error(kBodyInvalid, "request body parameters invalid: deviceSN is required");
      return nullptr;
    }
    auto* inv = device(sn, err);
    if (inv && !inv->cfg.has_battery) {
      err = error(kBodyInvalid,
                  "request body parameters invalid: " + sn + " does not support the scheduler");
      return nullptr;
    }
    return inv;
  };
  auto limits_of = [](const Inverter& inv, bool v1) {
    SchedulerLimits l;
    // The deprecated V0 text gives fdPwr 0..6000 and fdSoc 0..100; v1 publishes the device's.
    l.fd_pwr_max = v1 ? inv.cfg.site.inverter_max_w : 6000;
    return l;
  };
  for (bool v1 : {true, false}) {
    std::string base = v1 ? "/op/v1/device/scheduler/" : "/op/v0/device/scheduler/";
    post_query(base + "get/flag", [this, device](net::ServerRequest&, const json::object& body) {
      auto sn = string_field(body, "deviceSN").value_or("");
      if (sn.empty())
        return error(kBodyInvalid, "request body parameters invalid: deviceSN is required");
      std::lock_guard lock(mutex_);
      Reply err;
      auto* inv = device(sn, err);
      if (!inv) return err;
      return Reply{kSuccess, "success",
                   json::object{{"support", inv->cfg.has_battery ? 1 : 0},
                                {"enable", inv->scheduler_on ? 1 : 0}}};
    });
    auto set_flag = [this, scheduler_device](net::ServerRequest&, const json::object& body) {
      std::lock_guard lock(mutex_);
      Reply err;
      auto* inv = scheduler_device(body, err);
      if (!inv) return err;
      auto e = int_field(body, "enable");
      if (!e || (*e != 0 && *e != 1))
        return error(kBodyInvalid, "request body parameters invalid: enable must be 0 or 1");
      inv->scheduler_on = *e == 1;
      apply_controls_locked(*inv);
      return Reply{};
    };
    post_write(base + "set/flag", set_flag);
    // The seed's code example sets the flag through this undocumented path (foxess.md §8).
    if (!v1) post_write(base + "set", set_flag);
    post_query(base + "get", [this, v1, scheduler_device, limits_of](net::ServerRequest&,
                                                                     const json::object& body) {
      std::lock_guard lock(mutex_);
      Reply err;
      auto* inv = scheduler_device(body, err);
      if (!inv) return err;
      json::array groups;
      for (int i = 0; i < kSchedulerGroups; ++i)
        groups.push_back(to_json(
            std::size_t(i) < inv->groups.size() ? inv->groups[std::size_t(i)] : SchedulerGroup{},
            v1));
      json::object out{{"enable", inv->scheduler_on ? "1" : "0"}, {"groups", groups}};
      if (v1) {
        auto l = limits_of(*inv, true);
        auto prop = [](const char* unit, double lo, double hi) {
          return json::object{
              {"unit", unit}, {"precision", 1}, {"range", json::object{{"min", lo}, {"max", hi}}}};
        };
        out["properties"] = json::object{{"minSocOnGrid", prop("%", l.min_soc_on_grid_min, 100)},
                                         {"fdSoc", prop("%", l.fd_soc_min, 100)},
                                         {"fdPwr", prop("W", 0, l.fd_pwr_max)},
                                         {"maxSoc", prop("%", l.min_soc_on_grid_min, 100)}};
      }
      return Reply{kSuccess, "success", std::move(out)};
    });
    post_write(base + "enable", [this, v1, scheduler_device, limits_of](net::ServerRequest&,
                                                                        const json::object& body) {
      std::lock_guard lock(mutex_);
      Reply err;
      auto* inv = scheduler_device(body, err);
      if (!inv) return err;
      auto groups = body.if_contains("groups");
      auto checked =
          check_scheduler_groups(groups ? *groups : json::value(nullptr), v1, limits_of(*inv, v1));
      if (auto* refusal = std::get_if<SchedulerRefusal>(&checked))
        return error(refusal->err, refusal->msg);
      // The whole schedule is replaced, and writing it turns the scheduler on.
      inv->groups = std::get<std::vector<SchedulerGroup>>(std::move(checked));
      inv->scheduler_on = true;
      apply_controls_locked(*inv);
      return Reply{};
    });
  }

  // --- Force-charge windows ---
  get("/op/v0/device/battery/forceChargeTime/get",
      [this, device](net::ServerRequest& req, const json::object&) {
        std::lock_guard lock(mutex_);
        Reply err;
        auto* inv = device(req.query["sn"], err);
        if (!inv) return err;
        json::object out;
        for (int i = 0; i < 2; ++i) {
          const auto& w = inv->force_charge[std::size_t(i)];
          auto n = std::to_string(i + 1);
          out["enable" + n] = w.enable ? "true" : "false";  // a string here, a boolean in set
          out["startTime" + n] = json::object{{"hour", w.start_hour}, {"minute", w.start_minute}};
          out["endTime" + n] = json::object{{"hour", w.end_hour}, {"minute", w.end_minute}};
        }
        return Reply{kSuccess, "success", std::move(out)};
      });
  post_write("/op/v0/device/battery/forceChargeTime/set", [this, device](net::ServerRequest&,
                                                                         const json::object& body) {
    std::lock_guard lock(mutex_);
    Reply err;
    auto* inv = device(string_field(body, "sn").value_or(""), err);
    if (!inv) return err;
    if (!inv->cfg.has_battery)
      return error(kBodyInvalid,
                   "request body parameters invalid: " + inv->cfg.sn + " has no battery");
    if (inv->scheduler_on)
      return error(kScheduleActive,
                   "force-charge times cannot be changed while the scheduler is "
                   "enabled");
    std::array<Inverter::Window, 2> w{};
    for (int i = 0; i < 2; ++i) {
      auto n = std::to_string(i + 1);
      auto en = body.if_contains("enable" + n);
      if (!en || !en->is_bool())
        return error(kBodyInvalid,
                     "request body parameters invalid: enable" + n + " is required (a boolean)");
      w[std::size_t(i)].enable = en->as_bool();
      for (const char* which : {"startTime", "endTime"}) {
        auto t = body.if_contains(which + n);
        auto h = t && t->is_object() ? int_field(t->as_object(), "hour") : std::nullopt;
        auto m = t && t->is_object() ? int_field(t->as_object(), "minute") : std::nullopt;
        if (!h || !m || *h < 0 || *h > 23 || *m < 0 || *m > 59)
          return error(kBodyInvalid, "request body parameters invalid: " + std::string(which) + n +
                                         " needs hour 0..23 and minute 0..59");
        auto& dst = w[std::size_t(i)];
        (std::string(which) == "startTime" ? dst.start_hour : dst.end_hour) = int(*h);
        (std::string(which) == "startTime" ? dst.start_minute : dst.end_minute) = int(*m);
      }
    }
    inv->force_charge = w;
    apply_controls_locked(*inv);
    return Reply{};
  });

  // --- Device clock ---
  post_query("/op/v0/device/time/get",
             [this, device](net::ServerRequest&, const json::object& body) {
               std::lock_guard lock(mutex_);
               Reply err;
               auto* inv = device(string_field(body, "sn").value_or(""), err);
               if (!inv) return err;
               auto f = inv->cal.fields(clock_.now() + inv->clock_offset);
               auto two = [](int v) {
                 char buf[8];
                 std::snprintf(buf, sizeof buf, "%02d", v);
                 return std::string(buf);
               };
               return Reply{kSuccess, "success",
                            json::object{{"year", std::to_string(f.year)},
                                         {"month", two(f.month)},
                                         {"day", two(f.day)},
                                         {"hour", two(f.hour)},
                                         {"minute", two(f.minute)},
                                         {"second", two(f.second)}}};
             });
  post_write("/op/v0/device/time/set", [this, device](net::ServerRequest&,
                                                      const json::object& body) {
    std::lock_guard lock(mutex_);
    Reply err;
    auto* inv = device(string_field(body, "sn").value_or(""), err);
    if (!inv) return err;
    // All strings (foxess.md §5.4.16; the printed ranges are shifted, these are the intended).
    struct F {
      const char* key;
      int lo, hi;
    };
    int v[6] = {};
    const F fields[] = {{"year", 0, 2099}, {"month", 1, 12},  {"day", 1, 31},
                        {"hour", 0, 23},   {"minute", 0, 59}, {"second", 0, 59}};
    for (int i = 0; i < 6; ++i) {
      auto text = string_field(body, fields[i].key);
      int x = -1;
      if (text) {
        auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), x);
        if (ec != std::errc() || p != text->data() + text->size()) x = -1;
      }
      if (!text || x < fields[i].lo || x > fields[i].hi || (i == 0 && x > 99 && x < 2000))
        return error(kBodyInvalid, std::string("request body parameters invalid: ") +
                                       fields[i].key + " must be a string of an integer within " +
                                       (i == 0 ? std::string("0..99 or 2000..2099")
                                               : std::to_string(fields[i].lo) + ".." +
                                                     std::to_string(fields[i].hi)));
      v[i] = x;
    }
    if (v[0] < 100) v[0] += 2000;
    static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (v[0] % 4 == 0 && v[0] % 100 != 0) || v[0] % 400 == 0;
    if (v[2] > kDays[v[1] - 1] + (v[1] == 2 && leap ? 1 : 0))
      return error(kBodyInvalid, "request body parameters invalid: " + std::to_string(v[0]) + "-" +
                                     std::to_string(v[1]) + " has no day " + std::to_string(v[2]));
    auto set = inv->cal.at(v[0], v[1], v[2], v[3]) + minutes(v[4]) + seconds(v[5]);
    inv->clock_offset = duration_cast<Millis>(set - clock_.now());
    inv->time_sync = false;  // setting the clock turns the device's own time sync off
    return Reply{};
  });

  // --- Peak shaving (V1.1.2) ---
  auto shaving_device = [this, device](const json::object& body, Reply& err) -> Inverter* {
    auto* inv = device(string_field(body, "sn").value_or(""), err);
    if (inv && !inv->cfg.has_battery) {
      err = error(kBodyInvalid,
                  "request body parameters invalid: peak shaving not available on " + inv->cfg.sn);
      return nullptr;
    }
    return inv;
  };
  post_query("/op/v0/device/peakShaving/get", [this, shaving_device](net::ServerRequest&,
                                                                     const json::object& body) {
    std::lock_guard lock(mutex_);
    Reply err;
    auto* inv = shaving_device(body, err);
    if (!inv) return err;
    char limit[16];
    std::snprintf(limit, sizeof limit, "%.1f", inv->peak_import_limit_kw);
    return Reply{
        kSuccess, "success",
        json::object{
            {"importLimit", json::object{{"value", limit},
                                         {"unit", "kW"},
                                         {"precision", 0.1},
                                         {"range", json::object{{"min", 0}, {"max", 50}}}}},
            {"soc", json::object{{"value", std::to_string(inv->peak_soc)},
                                 {"unit", "%"},
                                 {"precision", 1},
                                 {"range", json::object{{"min", 10}, {"max", 100}}}}}}};
  });
  post_write("/op/v0/device/peakShaving/set", [this, shaving_device](net::ServerRequest&,
                                                                     const json::object& body) {
    std::lock_guard lock(mutex_);
    Reply err;
    auto* inv = shaving_device(body, err);
    if (!inv) return err;
    auto limit = body.if_contains("importLimit");
    auto l = limit ? net::as_double(*limit) : std::nullopt;
    auto soc = int_field(body, "soc");
    if (!l || *l < 0 || *l > 50 || std::abs(*l * 10 - std::round(*l * 10)) > 1e-6)
      return error(kBodyInvalid,
                   "request body parameters invalid: importLimit must be a number within "
                   "0..50 kW in steps of 0.1");
    if (!soc || *soc < 10 || *soc > 100)
      return error(kBodyInvalid,
                   "request body parameters invalid: soc must be an integer within 10..100");
    inv->peak_import_limit_kw = std::round(*l * 10) / 10;
    inv->peak_soc = int(*soc);
    apply_controls_locked(*inv);
    return Reply{};
  });

  // --- Fault codes (the seed gives the shape, not the catalogue: ours is documented) ---
  get("/op/v0/device/fault/get", [](net::ServerRequest&, const json::object&) {
    static const struct {
      int code;
      const char *en, *zh, *pl;
    } kFaults[] = {
        {1, "Grid lost", "电网丢失", "Utrata sieci"},
        {2, "Grid voltage fault", "电网电压故障", "Błąd napięcia sieci"},
        {3, "Grid frequency fault", "电网频率故障", "Błąd częstotliwości sieci"},
        {7, "PV over-voltage", "PV过压", "Przepięcie PV"},
        {9, "Isolation fault", "绝缘故障", "Błąd izolacji"},
        {11, "Residual current fault", "漏电流故障", "Błąd prądu upływu"},
        {33, "Inverter over-temperature", "逆变器过温", "Przegrzanie falownika"},
        {41, "Battery communication lost", "电池通讯丢失", "Utrata komunikacji z baterią"},
        {42, "Battery over-voltage", "电池过压", "Przepięcie baterii"},
        {43, "Battery under-voltage", "电池欠压", "Zbyt niskie napięcie baterii"},
        {44, "Battery over-temperature", "电池过温", "Przegrzanie baterii"},
        {57, "Meter communication lost", "电表通讯丢失", "Utrata komunikacji z licznikiem"},
    };
    json::array out;
    for (const auto& f : kFaults)
      out.push_back(json::object{
          {std::to_string(f.code), json::object{{"en", f.en}, {"zh_CN", f.zh}, {"pl", f.pl}}}});
    return Reply{kSuccess, "success", std::move(out)};
  });

  // --- Meters (V1.1.2) ---
  post_query("/op/v0/gw/list", [this](net::ServerRequest&, const json::object& body) {
    std::string why;
    auto p = paging(body, 0, why);
    if (!p) return error(kBodyInvalid, "request body parameters invalid: " + why);
    std::lock_guard lock(mutex_);
    std::vector<std::pair<std::string, std::string>> all;  // (sn, station)
    for (const auto& [sn, m] : meters_) all.emplace_back(sn, m.station_id);
    return Reply{
        kSuccess, "success", page_of(all, *p, [this](const auto& m) {
          std::string name;
          for (const auto& pl : options_.plants)
            if (pl.station_id == m.second) name = pl.name;
          return json::object{
              {"sn", m.first}, {"stationID", m.second}, {"stationName", name}, {"status", 1}};
        })};
  });
  struct MeterSpec {
    const char* key;
    const char* unit;
    double lo, hi;
  };
  static const MeterSpec kMeter[] = {{"mode", "", 0, 0},
                                     {"feedinPower", "W", 0, 30000},
                                     {"outputMaxCurrent", "A", 0, 100},
                                     {"inputMaxCurrent", "A", 0, 100},
                                     {"overVoltageMaxValue", "V", 230, 280},
                                     {"underVoltageMinValue", "V", 180, 230},
                                     {"sysOnOffPowerValue", "W", 0, 30000},
                                     {"deviceQuantity", "", 1, 16}};
  static const std::vector<std::string> kMeterModes = {"normal", "feedinLimit", "G100"};
  // The meter a request names (body `sn`); mutex_ held.
  auto meter_of = [this](const json::object& body, Reply& err) {
    auto sn = string_field(body, "sn").value_or("");
    auto m = meters_.find(sn);
    if (m == meters_.end())
      err = error(kBodyInvalid, "request body parameters invalid: no meter " +
                                    (sn.empty() ? std::string("(sn is required)") : sn));
    return m;
  };
  post_query(
      "/op/v0/gw/setting/get", [this, meter_of](net::ServerRequest&, const json::object& body) {
        std::lock_guard lock(mutex_);
        Reply err;
        auto m = meter_of(body, err);
        if (m == meters_.end()) return err;
        json::object out;
        for (const auto& spec : kMeter) {
          json::array list;
          if (std::string(spec.key) == "mode")
            for (const auto& mode : kMeterModes) list.push_back(json::string(mode));
          out[spec.key] = json::object{{"value", m->second.values.at(spec.key)},
                                       {"unit", spec.unit},
                                       {"precision", 1},
                                       {"range", json::object{{"min", spec.lo}, {"max", spec.hi}}},
                                       {"enumList", list}};
        }
        return Reply{kSuccess, "success", std::move(out)};
      });
  post_write("/op/v0/gw/setting/set", [this, meter_of](net::ServerRequest&,
                                                       const json::object& body) {
    std::lock_guard lock(mutex_);
    Reply err;
    auto m = meter_of(body, err);
    if (m == meters_.end()) return err;
    auto mode = string_field(body, "mode");
    if (!mode || std::find(kMeterModes.begin(), kMeterModes.end(), *mode) == kMeterModes.end())
      return error(kBodyInvalid,
                   "request body parameters invalid: mode is required (normal, feedinLimit or "
                   "G100)");
    auto values = m->second.values;
    values["mode"] = *mode;
    for (const auto& spec : kMeter) {
      std::string key = spec.key;
      if (key == "mode" || !body.contains(key)) continue;
      if (key == "deviceQuantity")
        return error(kBodyInvalid, "request body parameters invalid: deviceQuantity is read only");
      if (key == "feedinPower" && *mode == "normal")
        return error(kBodyInvalid,
                     "request body parameters invalid: feedinPower is only available in a "
                     "non-normal mode");
      if (key != "feedinPower" && *mode != "G100")
        return error(kBodyInvalid,
                     "request body parameters invalid: " + key + " is only available in G100 mode");
      auto text = string_field(body, spec.key);
      double v = -1;
      if (text) {
        auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
        if (ec != std::errc() || p != text->data() + text->size()) v = -1;
      }
      if (!text || v < spec.lo || v > spec.hi || v != std::floor(v))
        return error(kBodyInvalid, "request body parameters invalid: " + key +
                                       " must be a string of an integer within " +
                                       std::to_string(int(spec.lo)) + ".." +
                                       std::to_string(int(spec.hi)) + " " + spec.unit);
      values[key] = *text;
    }
    m->second.values = values;
    // Outside normal mode the meter holds the plant's export to feedinPower, shared by its
    // inverters.
    std::vector<Inverter*> plant;
    for (auto& inv : inverters_)
      if (inv->station_id == m->second.station_id) plant.push_back(inv.get());
    for (auto* inv : plant) {
      advance_locked(*inv, clock_.now());
      inv->meter_share_w = std::nullopt;
      if (*mode != "normal")
        inv->meter_share_w = std::stod(values["feedinPower"]) / double(plant.size());
      apply_controls_locked(*inv);
    }
    return Reply{};
  });

  // --- Power stations: create, update, delete ---
  // Checks a create/update body's details; fills `plant`. Module SNs in `devices` that belong
  // to this account move their inverter to the plant; others get a non-zero errno each.
  auto plant_body = [](const json::object& body, SimPlant& plant, bool update) -> Reply {
    auto d = body.if_contains("details");
    if (!d || !d->is_object())
      return error(kBodyInvalid, "request body parameters invalid: details is required");
    const auto& details = d->as_object();
    if (update) {
      auto id = string_field(details, "stationID");
      if (!id || id->empty())
        return error(kBodyInvalid,
                     "request body parameters invalid: details.stationID is required");
    }
    for (const char* key : {"name", "countryCode", "city", "address", "postcode"}) {
      auto v = string_field(details, key);
      if (!v || v->empty())
        return error(kBodyInvalid, std::string("request body parameters invalid: details.") + key +
                                       " is required (a string)");
    }
    auto type = int_field(details, "type");
    if (!type || *type < 1 || *type > 4)
      return error(kBodyInvalid,
                   "request body parameters invalid: details.type must be 1 (PV), 2 (energy "
                   "storage), 3 (charge pile) or 4 (mini device)");
    auto country = *string_field(details, "countryCode");
    if (country.size() != 2 || !std::isupper(static_cast<unsigned char>(country[0])) ||
        !std::isupper(static_cast<unsigned char>(country[1])))
      return error(kBodyInvalid,
                   "request body parameters invalid: details.countryCode must be ISO 3166-1 "
                   "alpha-2 (e.g. DE)");
    auto zone = string_field(body, "timezone").value_or("");
    try {
      Calendar check(zone);
    } catch (const std::exception&) {
      return error(kBodyInvalid, "request body parameters invalid: timezone '" + zone +
                                     "' is not an IANA zone (e.g. Europe/Berlin)");
    }
    plant.name = *string_field(details, "name");
    plant.country = country;
    plant.city = *string_field(details, "city");
    plant.address = *string_field(details, "address");
    plant.postcode = *string_field(details, "postcode");
    plant.timezone = zone;
    return Reply{};
  };
  auto attach = [this](const json::object& body, const std::string& station_id,
                       const std::string& name) {
    json::array results;
    auto devs = body.if_contains("devices");
    if (!devs || !devs->is_array()) return results;
    for (const auto& d : devs->as_array()) {
      auto sn = d.is_object() ? string_field(d.as_object(), "sn").value_or("") : "";
      auto key = d.is_object() ? string_field(d.as_object(), "key").value_or("") : "";
      Inverter* found = nullptr;
      for (auto& inv : inverters_)
        if (inv->module_sn == sn) found = inv.get();
      if (found) {
        found->station_id = station_id;
        found->station_name = name;
      }
      results.push_back(json::object{{"device", json::object{}},
                                     {"sn", sn},
                                     {"key", key},
                                     {"errno", found ? 0 : kBodyInvalid}});
    }
    return results;
  };
  post_write("/op/v0/plant/create",
             [this, plant_body, attach](net::ServerRequest&, const json::object& body) {
               SimPlant plant;
               if (auto r = plant_body(body, plant, false); r.err != kSuccess) return r;
               std::lock_guard lock(mutex_);
               char id[40];
               std::snprintf(id, sizeof id, "7a1e%04x-5c2d-4e8f-a1b2-%012llx", ++plants_made_,
                             static_cast<unsigned long long>(to_ms(clock_.now())));
               plant.station_id = id;
               options_.plants.push_back(plant);
               auto devices = attach(body, plant.station_id, plant.name);
               return Reply{kSuccess, "success",
                            json::object{{"stationID", plant.station_id}, {"devices", devices}}};
             });
  post_write("/op/v0/plant/update", [this, plant_body, attach](net::ServerRequest&,
                                                               const json::object& body) {
    SimPlant given;
    if (auto r = plant_body(body, given, true); r.err != kSuccess) return r;
    auto id = *string_field(body.at("details").as_object(), "stationID");
    std::lock_guard lock(mutex_);
    for (auto& pl : options_.plants) {
      if (pl.station_id != id) continue;
      given.station_id = id;
      given.meter_sn = pl.meter_sn;
      given.inverters = std::move(pl.inverters);
      pl = std::move(given);
      for (auto& inv : inverters_)
        if (inv->station_id == id) inv->station_name = pl.name;
      auto devices = attach(body, id, pl.name);
      return Reply{kSuccess, "success", json::object{{"stationID", id}, {"devices", devices}}};
    }
    return error(kBodyInvalid, "request body parameters invalid: no station " + id);
  });
  post_write("/op/v0/plant/delete", [this](net::ServerRequest&, const json::object& body) {
    auto id = string_field(body, "stationID").value_or("");
    if (id.empty())
      return error(kBodyInvalid, "request body parameters invalid: stationID is required");
    std::lock_guard lock(mutex_);
    auto it = std::find_if(options_.plants.begin(), options_.plants.end(),
                           [&](const SimPlant& p) { return p.station_id == id; });
    if (it == options_.plants.end())
      return error(kBodyInvalid, "request body parameters invalid: no station " + id);
    // A deleted station's inverters and meter leave the account (they are unbound).
    options_.plants.erase(it);
    std::erase_if(inverters_, [&](const auto& inv) { return inv->station_id == id; });
    std::erase_if(meters_, [&](const auto& m) { return m.second.station_id == id; });
    return Reply{kSuccess, "success", nullptr};
  });

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
