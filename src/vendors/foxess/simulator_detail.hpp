// What the FoxESS simulator's parts share (simulator.cpp and simulator_*.cpp, one per
// section of the Open API): the inverter's state, the reply envelope and errnos, and the
// helpers every section uses. Internal to the simulator.
#pragma once

#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <functional>
#include <set>

#include "core/calendar.hpp"
#include "net/http_server.hpp"
#include "net/json.hpp"
#include "vendors/foxess/scheduler.hpp"
#include "vendors/foxess/simulator.hpp"
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

namespace detail {

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

inline Reply error(int err, std::string msg) {
  return Reply{err, std::move(msg), nullptr};
}

inline net::ServerResponse envelope(Reply r) {
  json::object o(r.result.storage());  // the result's arena: moving it in copies nothing
  o.emplace("errno", r.err);
  o.emplace("msg", r.msg);
  if (r.err == kSuccess) o["result"] = std::move(r.result);
  return net::ServerResponse::json(200, net::to_json(o));
}

// What the inverter put out on its AC side: PV that did not charge the battery, plus
// discharge ("Cumulative power generation").
inline double ac_yield_wh(const sim::Counters& c) {
  return c.pv_wh - (c.battery_charge_wh - c.charge_from_grid_wh) + c.battery_discharge_wh;
}

inline double round_to(double v, double step) {
  return std::round(v / step) * step;
}

// Values of every variable the inverter has, in the variable table's units.
inline std::vector<std::pair<std::string, double>> variable_values(const SimInverter& cfg,
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

inline std::string utc_text(TimePoint t) {
  auto s = format_iso8601(time_point_cast<seconds>(t));  // "2026-11-21T14:05:00Z"
  s = s.substr(0, 19);
  s[10] = ' ';
  return s;
}

inline json::object datum(const std::string& name, double value, const std::string& time,
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

inline std::optional<Page> paging(const json::object& body, int max_size, std::string& why) {
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
inline json::object page_of(const std::vector<T>& items, Page p, F to_json) {
  json::array data;
  std::size_t from = std::size_t(p.current - 1) * std::size_t(p.size);
  for (std::size_t i = from; i < items.size() && i < from + std::size_t(p.size); ++i)
    data.push_back(to_json(items[i]));
  return json::object{
      {"currentPage", p.current}, {"pageSize", p.size}, {"total", items.size()}, {"data", data}};
}

inline std::optional<std::string> string_field(const json::object& o, const char* key) {
  auto v = o.if_contains(key);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string(v->as_string());
}

inline std::optional<std::int64_t> int_field(const json::object& o, const char* key) {
  auto v = o.if_contains(key);
  if (!v) return std::nullopt;
  auto d = net::as_double(*v);
  if (!d || *d != std::floor(*d)) return std::nullopt;
  return std::int64_t(*d);
}

// Which variables a request asked for: all when absent or empty; unknown names are refused.
inline std::optional<std::set<std::string>> wanted_variables(const json::object& body,
                                                             std::string& why) {
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

inline const std::map<std::string, SettingSpec>& setting_specs() {
  static const std::map<std::string, SettingSpec> m = {
      {"ExportLimit", {"W", 1, 0, 30000}}, {"MinSoc", {"%", 1, 10, 100}},
      {"MinSocOnGrid", {"%", 1, 10, 100}}, {"MaxSoc", {"%", 1, 10, 100}},
      {"GridCode", {"", 1, 0, 0}},         {"WorkMode", {"", 1, 0, 0}}};
  return m;
}

// A plant's zone is its inverters' (sites share the plant's place).
inline std::string zone_of(const SimPlant& plant) {
  if (!plant.timezone.empty()) return plant.timezone;
  return plant.inverters.empty() ? "Europe/Berlin" : plant.inverters[0].site.timezone;
}

inline const std::vector<std::string> kWorkModes = {"SelfUse", "Feedin", "Backup", "PeakShaving"};
constexpr int kScheduleActive = 44096;  // protocols.md §2.3 (TonyM1958 set_charge / set_min)
constexpr int kTimeOverlap = 42023;
inline const std::vector<std::string> kGridCodes = {"Germany-VDE4105", "Austria-TOR", "UK-G99",
                                                    "Netherlands-NEN", "Italy-CEI021"};

// An inverter's counters since its local midnight.
inline sim::Counters today_of(Simulator::Inverter& inv) {
  return inv.today(inv.site->now(), inv.site->counters());
}

}  // namespace detail

// The interfaces of one section of the API: each call of
// `get`, `post_query` and `post_write` adds one interface behind the cloud's
// authentication, signature, pacing and quota checks.
struct Simulator::Routes {
  using Fn = std::function<detail::Reply(net::ServerRequest&, const json::object& body)>;
  std::function<void(std::string, Fn)> get, post_query, post_write;
};

}  // namespace sb::foxess
