#include "vendors/kostal/simulator.hpp"

#include <date/tz.h>

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <cmath>
#include <cstdio>
#include <functional>
#include <numeric>
#include <sstream>

#include "net/crypto.hpp"
#include "net/json.hpp"
#include "sim/http_faults.hpp"
#include "vendors/kostal/simulator_detail.hpp"

namespace sb::kostal {

namespace asio = boost::asio;
using namespace detail;  // json, std::chrono and the reply helpers

std::string escape_slashes(std::string s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (char c : s) {
    if (c == '/') out += '\\';
    out += c;
  }
  return out;
}

Simulator::Simulator(asio::any_io_executor executor, const Clock& clock, sim::SiteConfig site,
                     SimOptions options, sim::FaultSpec faults)
    : sim::HttpSimulator(executor, faults),
      clock_(clock),
      options_(std::move(options)),
      zone_(date::locate_zone(site.timezone)),
      calendar_(site.timezone),
      // The site starts at local midnight so that the day's statistics agree with its physics.
      site_(site, calendar_.midnight(clock.now())) {
  auto salt_owner = crypto::random_bytes(12), salt_master = crypto::random_bytes(12);
  owner_.credential = make_credential(options_.owner_password, salt_owner, options_.rounds);
  master_.credential = make_credential(options_.master_key, salt_master, options_.rounds);

  // Month and year totals before the simulation started: the lifetime counters spread evenly
  // over four years.
  day_start_ = site_.counters();
  auto ymd = date::year_month_day(date::floor<date::days>(zone_->to_local(site_.now())));
  auto per_day = sim::scaled(site_.counters(), 1.0 / 1461.0);
  int day_of_month = int(unsigned(ymd.day())) - 1;
  int day_of_year =
      (date::local_days(ymd) - date::local_days(ymd.year() / date::January / 1)).count();
  month_start_ = sim::minus(day_start_, sim::scaled(per_day, day_of_month));
  year_start_ = sim::minus(day_start_, sim::scaled(per_day, day_of_year));
  next_midnight_ = calendar_.next_midnight(site_.now());
  next_log_ = site_.now();

  using S = SettingDef;
  auto& local = settings_["devices:local"];
  local["Battery:MinSoc"] = S{"uint8", "%", 5, 100, "5", false, false, "5"};
  local["Battery:MinHomeComsumption"] = S{"float", "W", 50, 38000, "50.0", false, false, "50.0"};
  local["Battery:DynamicSoc:Enable"] = S{"bool", {}, 0, 1, "0", false, false, "0"};
  local["Battery:SmartBatteryControl:Enable"] = S{"bool", {}, 0, 1, "0", false, false, "0"};
  local["Battery:Strategy"] = S{"uint8", {}, 1, 2, "1", false, false, "1"};
  local["Battery:Type"] = S{"uint8", {}, 0, 4, "2", true, false, "2"};
  local["Battery:ExternControl"] = S{"uint8", {}, 0, 2, "0", true, false, "0"};
  local["Battery:ExternControl:MaxChargePowerAbs"] =
      S{"float", "W", 0, 10000, {}, true, false, "10000.0"};
  local["Battery:TimeControl:Enable"] = S{"bool", {}, 0, 1, "0", false, false, "0"};
  for (auto* day : kDays)
    local[std::string("Battery:TimeControl:Conf") + day] =
        S{"string", {}, {}, {}, {}, false, false, std::string(96, '0')};
  local["Inverter:ActivePowerLimitation"] =
      S{"float", "W", 0, site.inverter_max_w, {}, true, false, float_text(site.inverter_max_w)};
  local["Properties:SerialNo"] = S{"string", {}, {}, {}, {}, false, true, options_.serial};
  local["Properties:VersionIOC"] = S{"string", {}, {}, {}, {}, false, true, "01.46"};
  local["Properties:VersionMC"] = S{"string", {}, {}, {}, {}, false, true, "01.52"};
  local["Properties:PowerId"] =
      S{"uint32", {}, 0, 100000, {}, false, true, std::to_string(int(site.inverter_max_w))};
  local["Branding:ProductName1"] = S{"string", {}, {}, {}, {}, false, true, options_.product};
  local["Branding:ProductName2"] = S{"string", {}, {}, {}, {}, false, true, options_.power_class};
  // What real devices carry besides the settings sunbridge uses: clients such as the ioBroker
  // adapter read them in the same POST, and one unknown id fails the whole request with 404.
  local["Battery:SupportedTypes"] = S{"uint32", {}, 0, 255, {}, false, true, "7"};
  local["Battery:ExternControl:DcPowerAbs"] =
      S{"float", "W", -10000, 10000, {}, true, false, "0.0"};
  local["Battery:ExternControl:MaxDischargePowerAbs"] =
      S{"float", "W", 0, 10000, {}, true, false, "10000.0"};
  local["Inverter:MaxApparentPower"] =
      S{"uint16", "VA", 0, 65535, {}, false, true, std::to_string(int(site.inverter_max_w))};
  local["EnergySensor:InstalledSensor"] = S{"uint8", {}, 0, 3, "1", true, false, "1"};
  local["EnergySensor:SensorPosition"] = S{"uint8", {}, 0, 2, "1", true, false, "1"};
  local["OptionKeys:StateKey0"] = S{"uint8", {}, 0, 1, {}, false, true, "1"};
  local["Generator:ExtModuleControl:Enable"] = S{"bool", {}, 0, 1, "0", true, false, "0"};
  local["Generator:ShadowMgmt:Enable"] = S{"uint8", {}, 0, 2, "0", false, false, "0"};
  // The network ids lost their "Network:" prefix in newer firmware's predecessors; HA probes
  // both (protocols.md §1.8).
  auto net_id = [&](const char* id) {
    return options_.legacy_network_ids ? std::string(id) : "Network:" + std::string(id);
  };
  auto& network = settings_["scb:network"];
  network[net_id("Hostname")] = S{"string", {}, {}, {}, {}, true, false, options_.hostname};
  network[net_id("IPv4Auto")] = S{"bool", {}, 0, 1, "1", true, false, "1"};
  network[net_id("IPv4Address")] = S{"string", {}, {}, {}, {}, true, false, "192.168.178.50"};
  network[net_id("IPv4Subnetmask")] = S{"string", {}, {}, {}, {}, true, false, "255.255.255.0"};
  network[net_id("IPv4Gateway")] = S{"string", {}, {}, {}, {}, true, false, "192.168.178.1"};
  network[net_id("IPv4DNS1")] = S{"string", {}, {}, {}, {}, true, false, "192.168.178.1"};
  network[net_id("IPv4DNS2")] = S{"string", {}, {}, {}, {}, true, false, ""};
  auto& exp = settings_["scb:export"];
  exp["ExportEnable"] = S{"bool", {}, 0, 1, "1", false, false, "1"};
  exp["Portal"] = S{"uint8", {}, 0, 2, "1", false, false, "1"};
  exp["LastExport"] = S{"string", {}, {}, {}, {}, false, true, ""};
  exp["LastExportOk"] = S{"string", {}, {}, {}, {}, false, true, ""};
  settings_["scb:time"]["NTPuse"] = S{"bool", {}, 0, 1, "1", true, false, "1"};
  settings_["scb:time"]["NTPservers"] = S{"string", {}, {}, {}, {}, true, false, "pool.ntp.org"};
  settings_["scb:time"]["Timezone"] = S{"string", {}, {}, {}, {}, true, false, site.timezone};
  settings_["scb:modbus"]["ModbusEnable"] = S{"bool", {}, 0, 1, "0", true, false, "0"};
  settings_["scb:modbus"]["ModbusUnitId"] = S{"uint8", {}, 1, 247, "71", true, false, "71"};
  apply_setting_locked("devices:local", "Battery:MinSoc");
  apply_setting_locked("devices:local", "Battery:MinHomeComsumption");

  auto start = site_.now();
  events_.push_back({start - hours(30), start - hours(29), 5014, "info", "Information",
                     "Battery fully charged", "The battery has been charged completely."});
  events_.push_back({start - hours(6), start - hours(5), 6260, "info", "Information",
                     "Grid feed-in limited", "Feed-in was limited to the configured value."});
  std::lock_guard lock(mutex_);
  advance_locked();
}

Simulator::~Simulator() {
  stop();
}

std::string Simulator::local_iso(TimePoint t) const {
  auto local = zone_->to_local(date::floor<seconds>(t));
  return date::format("%Y-%m-%dT%H:%M:%S", local);
}

void Simulator::advance_locked() {
  auto now = clock_.now();
  while (site_.now() < now || site_.now() == next_log_) {
    auto next = std::min({now, next_log_, next_midnight_});
    site_.advance_to(next);
    if (site_.now() == next_log_) {
      record_log_locked();
      next_log_ += kLogStep;
    }
    if (site_.now() == next_midnight_) roll_periods_locked();
    if (site_.now() >= now && site_.now() != next_log_) break;
  }
}

void Simulator::roll_periods_locked() {
  auto before = calendar_.fields(site_.now() - 1s), after = calendar_.fields(site_.now());
  day_start_ = site_.counters();
  if (before.month != after.month) month_start_ = day_start_;
  if (before.year != after.year) year_start_ = day_start_;
  next_midnight_ = calendar_.next_midnight(site_.now() + 1s);
}

void Simulator::record_log_locked() {
  const auto& st = site_.state();
  LogRow r;
  r.time = site_.now();
  r.strings = st.strings;
  double ac = st.pv_w + st.battery_w;
  for (int i = 0; i < 3; ++i) {
    r.ac_u[i] = st.ac_voltage_v + (i - 1) * 0.8;
    r.ac_p[i] = ac / 3;
    r.ac_i[i] = r.ac_p[i] / r.ac_u[i];
  }
  r.frequency = st.frequency_hz;
  r.soc = st.soc_percent;
  r.bat_u = st.battery_voltage_v;
  r.bat_i = st.battery_current_a;
  r.bat_p = st.battery_w;
  r.home_grid = std::min(st.load_w, std::max(st.grid_w, 0.0));
  r.home_bat = std::min(st.load_w - r.home_grid, std::max(st.battery_w, 0.0));
  r.home_pv = st.load_w - r.home_grid - r.home_bat;
  r.grid_p = st.grid_w;
  r.total_e_kwh = site_.counters().pv_wh / 1000.0;
  log_.push_back(std::move(r));
  if (log_.size() > kLogRows) log_.pop_front();
}

void Simulator::apply_setting_locked(const std::string& module, const std::string& id) {
  if (module != "devices:local") return;
  auto& s = settings_[module];
  if (id == "Battery:MinSoc") {
    site_.set_reserve_soc(std::stod(s.at(id).value));
  } else if (id == "Battery:MinHomeComsumption") {
    site_.set_discharge_threshold(std::stod(s.at(id).value));
  } else if (id.starts_with("Battery:TimeControl:")) {
    site_.set_weekly_plan(parse_plan(s));
  }
}

std::map<std::string, std::vector<Simulator::Pd>> Simulator::process_data_locked() {
  const auto& st = site_.state();
  const auto& c = site_.counters();
  const auto& cfg = site_.config();
  std::map<std::string, std::vector<Pd>> m;
  double home_grid = std::min(st.load_w, std::max(st.grid_w, 0.0));
  double home_bat = std::min(st.load_w - home_grid, std::max(st.battery_w, 0.0));
  double home_pv = st.load_w - home_grid - home_bat;
  double charge = std::max(-st.battery_w, 0.0);
  double ac = st.pv_w + st.battery_w;
  bool running = st.pv_w > 0 || std::abs(st.battery_w) > 0;
  m["devices:local"] = {{"Dc_P", "W", st.pv_w + st.battery_w},
                        {"DigitalIn", "", 0},
                        {"EM_State", "", 0},
                        {"Grid_P", "W", st.grid_w},
                        {"HomeBat_P", "W", home_bat},
                        {"HomeGrid_P", "W", home_grid},
                        {"HomeOwn_P", "W", home_pv + home_bat},
                        {"HomePv_P", "W", home_pv},
                        {"Home_P", "W", st.load_w},
                        {"Inverter:State", "", running ? 6.0 : 10.0},
                        {"LimitEvuAbs", "W", cfg.inverter_max_w},
                        {"PV2Bat_P", "W", std::min(charge, std::max(0.0, st.pv_w - st.load_w))}};
  double q = ac * 0.05;
  double s = std::hypot(ac, q);
  auto& acm = m["devices:local:ac"];
  acm = {{"CosPhi", "", s > 0 ? std::abs(ac) / s : 1.0}, {"Frequency", "Hz", st.frequency_hz}};
  for (int i = 1; i <= 3; ++i) {
    double u = st.ac_voltage_v + (i - 2) * 0.8;
    std::string l = "L" + std::to_string(i);
    acm.push_back({l + "_I", "A", ac / 3 / u});
    acm.push_back({l + "_P", "W", ac / 3});
    acm.push_back({l + "_U", "V", u});
  }
  acm.push_back({"P", "W", ac});
  acm.push_back({"Q", "Var", q});
  acm.push_back({"S", "VA", s});
  auto& pm = m["devices:local:powermeter"];
  pm = {{"CosPhi", "", 0.98}, {"Frequency", "Hz", st.frequency_hz}};
  for (int i = 1; i <= 3; ++i) {
    double u = st.ac_voltage_v + (i - 2) * 0.6;
    std::string n = std::to_string(i);
    pm.push_back({"I_L" + n, "A", st.grid_w / 3 / u});
    pm.push_back({"P_L" + n, "W", st.grid_w / 3});
    pm.push_back({"U_L" + n, "V", u});
  }
  pm.push_back({"P", "W", st.grid_w});
  pm.push_back({"Q", "Var", st.grid_w * 0.2});
  pm.push_back({"S", "VA", std::abs(st.grid_w) * 1.02});
  const auto& b = cfg.battery;
  m["devices:local:battery"] = {{"Cycles", "", std::floor(c.battery_discharge_wh / b.capacity_wh)},
                                {"FullChargeCap_E", "Ah", b.capacity_wh / b.nominal_voltage_v},
                                {"I", "A", st.battery_current_a},
                                {"P", "W", st.battery_w},
                                {"SoC", "%", std::round(st.soc_percent)},
                                {"U", "V", st.battery_voltage_v},
                                {"WorkCapacity", "Wh", site_.usable_capacity_wh()}};
  for (std::size_t i = 0; i < st.strings.size(); ++i) {
    const auto& str = st.strings[i];
    m["devices:local:pv" + std::to_string(i + 1)] = {
        {"I", "A", str.current_a}, {"P", "W", str.power_w}, {"U", "V", str.voltage_v}};
  }
  auto& ef = m["scb:statistic:EnergyFlow"];
  const std::pair<const char*, sim::Counters> periods[] = {{"Day", sim::minus(c, day_start_)},
                                                           {"Month", sim::minus(c, month_start_)},
                                                           {"Year", sim::minus(c, year_start_)},
                                                           {"Total", c}};
  for (const auto& [name, d] : periods) {
    std::string p = name;
    double charge_pv = d.battery_charge_wh - d.charge_from_grid_wh;
    double yield = d.pv_wh - charge_pv + d.battery_discharge_wh;
    double own = d.home_from_pv_wh + d.home_from_battery_wh;
    ef.push_back({"Statistic:Autarky:" + p, "%",
                  d.load_wh > 0 ? (d.load_wh - d.home_from_grid_wh) / d.load_wh * 100 : 0});
    ef.push_back({"Statistic:CO2Saving:" + p, "g", yield * 0.7});
    ef.push_back({"Statistic:EnergyChargeGrid:" + p, "Wh", d.charge_from_grid_wh});
    ef.push_back({"Statistic:EnergyChargeInvIn:" + p, "Wh", d.charge_from_grid_wh});
    ef.push_back({"Statistic:EnergyChargePv:" + p, "Wh", charge_pv});
    ef.push_back({"Statistic:EnergyDischarge:" + p, "Wh", d.battery_discharge_wh});
    ef.push_back({"Statistic:EnergyDischargeGrid:" + p, "Wh",
                  std::max(0.0, d.battery_discharge_wh - d.home_from_battery_wh)});
    ef.push_back({"Statistic:EnergyHome:" + p, "Wh", d.load_wh});
    ef.push_back({"Statistic:EnergyHomeBat:" + p, "Wh", d.home_from_battery_wh});
    ef.push_back({"Statistic:EnergyHomeGrid:" + p, "Wh", d.home_from_grid_wh});
    ef.push_back({"Statistic:EnergyHomeOwn:" + p, "Wh", own});
    ef.push_back({"Statistic:EnergyHomePv:" + p, "Wh", d.home_from_pv_wh});
    ef.push_back({"Statistic:OwnConsumptionRate:" + p, "%", yield > 0 ? own / yield * 100 : 0});
    ef.push_back({"Statistic:Yield:" + p, "Wh", yield});
  }
  m["scb:export"] = {{"PortalConActive", "", 0}};
  for (auto& [mid, list] : m) {
    std::sort(list.begin(), list.end(), [](const Pd& a, const Pd& b) { return a.id < b.id; });
    if (options_.empty_units)
      for (auto& p : list) p.unit.clear();
  }
  return m;
}

Role Simulator::role_of(const net::ServerRequest& req) {
  auto h = req.header("authorization");
  constexpr std::string_view prefix = "Session ";
  if (h.size() <= prefix.size() || !net::iequals(h.substr(0, prefix.size()), prefix))
    return Role::None;
  auto it = sessions_.find(std::string(h.substr(prefix.size())));
  if (it == sessions_.end()) return Role::None;
  auto now = clock_.now();
  if (now - it->second.last_used > options_.session_idle) {
    sessions_.erase(it);
    return Role::None;
  }
  it->second.last_used = now;
  return it->second.role;
}

// --- routes --------------------------------------------------------------------------------

std::shared_ptr<net::Router> Simulator::routes() {
  auto r = std::make_shared<net::Router>();
  // Every request passes the fault plan first; a restarting or sleeping board answers 503.
  sim::HttpFaultReplies faults{[] { return message(503, kInternal); },
                               [this]() -> std::optional<net::ServerResponse> {
                                 std::lock_guard lock(mutex_);
                                 if (unavailable_until_ && clock_.now() < *unavailable_until_)
                                   return message(503, kInternal);
                                 return std::nullopt;
                               }};
  auto guarded = [this, faults](auto handler) {
    return sim::with_faults(
        http_->gate(), faults_, requests_, faults,
        [this, handler](net::ServerRequest& req) { return std::invoke(handler, this, req); });
  };
  const std::string base = "/api/v1";
  r->get(base + "/info/version", guarded(+[](Simulator* self, net::ServerRequest&) {
           return reply(200, json::object{{"sw_version", self->options_.sw_version},
                                          {"name", "PUCK RESTful API"},
                                          {"api_version", "0.2.0"},
                                          {"hostname", self->options_.hostname}});
         }));
  r->post(base + "/auth/start", guarded(&Simulator::auth_start));
  r->post(base + "/auth/finish", guarded(&Simulator::auth_finish));
  r->post(base + "/auth/create_session", guarded(&Simulator::auth_create_session));
  r->get(base + "/auth/me", guarded(&Simulator::auth_me));
  r->post(base + "/auth/logout", guarded(&Simulator::auth_logout));
  r->post(base + "/auth/set_password", guarded(&Simulator::auth_set_password));
  r->get(base + "/modules", guarded(+[](Simulator* self, net::ServerRequest& req) {
           std::lock_guard lock(self->mutex_);
           if (self->role_of(req) == Role::None) return message(401, kUnauthorized);
           json::array out;
           auto process = self->process_data_locked();
           for (const auto& [id, list] : process) {
             std::string type = id.starts_with("scb:") ? "service" : "device";
             if (id.starts_with("devices:local:"))
               type = "device:" + id.substr(14, id.find_first_of("0123456789", 14) - 14);
             out.push_back(json::object{{"id", id}, {"type", type}});
           }
           for (const auto& [id, list] : self->settings_)
             if (id.starts_with("scb:") && !process.contains(id))
               out.push_back(json::object{{"id", id}, {"type", "service"}});
           out.push_back(json::object{{"id", "devices:prober"}, {"type", "device"}});
           return reply(200, out);
         }));
  r->get(base + "/processdata", guarded(&Simulator::processdata_get));
  r->get(base + "/processdata/{module}", guarded(&Simulator::processdata_get));
  r->get(base + "/processdata/{module}/{ids}", guarded(&Simulator::processdata_get));
  r->post(base + "/processdata", guarded(&Simulator::processdata_post));
  r->get(base + "/settings", guarded(&Simulator::settings_meta));
  r->post(base + "/settings", guarded(&Simulator::settings_post));
  r->put(base + "/settings", guarded(&Simulator::settings_put));
  r->get(base + "/settings/{module}", guarded(&Simulator::settings_get));
  r->get(base + "/settings/{module}/{ids}", guarded(&Simulator::settings_get));
  r->get(base + "/events/latest", guarded(&Simulator::events_latest));
  r->post(base + "/events/latest", guarded(&Simulator::events_latest));
  r->get(base + "/logdata/download", guarded(&Simulator::logdata));
  r->post(base + "/logdata/download", guarded(&Simulator::logdata));
  r->get(
      base + "/firmwareupdate/status", guarded(+[](Simulator* self, net::ServerRequest& req) {
        std::lock_guard lock(self->mutex_);
        if (self->role_of(req) == Role::None) return message(401, kUnauthorized);
        return reply(200, json::object{{"status", "idle"}, {"current_percent", 0}, {"target", ""}});
      }));
  sim::set_fallbacks(
      *r, http_->gate(), requests_, [] { return message(404, kNotFound); },
      [] { return message(405, kNotAllowed); });
  return r;
}

// --- control -------------------------------------------------------------------------------

void Simulator::unavailable_for(Millis d) {
  std::lock_guard lock(mutex_);
  unavailable_until_ = clock_.now() + d;
}

void Simulator::restart(Millis boot) {
  std::lock_guard lock(mutex_);
  sessions_.clear();
  txns_.clear();
  if (boot.count() > 0) unavailable_until_ = clock_.now() + boot;
  events_.push_back({clock_.now(), clock_.now(), 6001, "info", "Information", "Restart",
                     "The smart communication board was restarted."});
}

void Simulator::expire_sessions() {
  std::lock_guard lock(mutex_);
  sessions_.clear();
}

void Simulator::ignore_next_write(const std::string& id) {
  std::lock_guard lock(mutex_);
  ignore_writes_.insert(id);
}

std::string Simulator::setting(const std::string& module, const std::string& id) {
  std::lock_guard lock(mutex_);
  auto m = settings_.find(module);
  if (m == settings_.end()) return "";
  auto s = m->second.find(id);
  return s == m->second.end() ? "" : s->second.value;
}

std::size_t Simulator::sessions() {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

}  // namespace sb::kostal
