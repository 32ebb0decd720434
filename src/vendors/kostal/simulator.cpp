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

namespace sb::kostal {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono;

namespace {

// Flask / Flask-RESTPlus wording where the device is a Flask app (specs/kostal.md §0).
constexpr const char* kNotFound =
    "The requested URL was not found on the server. If you entered the URL manually please "
    "check your spelling and try again.";
constexpr const char* kNotAllowed = "The method is not allowed for the requested URL.";
constexpr const char* kUnauthorized =
    "The server could not verify that you are authorized to access the URL requested. You "
    "either supplied the wrong credentials (e.g. a bad password), or your browser doesn't "
    "understand how to supply the credentials required.";
constexpr const char* kInternal = "Internal communication error";
constexpr Millis kLogStep = minutes(5);
constexpr std::size_t kLogRows = 100 * 288;  // 100 days of 5-minute rows
constexpr const char* kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};

net::ServerResponse reply(int status, const json::value& body) {
  return net::ServerResponse::json(status, escape_slashes(net::to_json(body)));
}

net::ServerResponse message(int status, std::string text) {
  return reply(status, json::object{{"message", std::move(text)}});
}

// Flask-RESTPlus payload validation failure.
net::ServerResponse invalid_payload(const std::string& field, const std::string& why) {
  return reply(400, json::object{{"errors", json::object{{field, why}}},
                                 {"message", "Input payload validation failed"}});
}

std::string random_hex(std::size_t bytes) {
  return crypto::hex(crypto::random_bytes(bytes));
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    auto comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

std::string float_text(double v) {
  auto s = net::to_json(json::value(v));
  if (s.find_first_of(".eE") == std::string::npos) s += ".0";
  return s;
}

// Slot rule of KOSTAL's 96-character plan strings: '0' free, '1' no charging, '2' no discharge.
std::optional<sim::WeeklyPlan> parse_plan(const std::map<std::string, Simulator::SettingDef>& s) {
  if (s.at("Battery:TimeControl:Enable").value != "1") return std::nullopt;
  sim::WeeklyPlan plan{};
  for (int d = 0; d < 7; ++d) {
    const auto& text = s.at(std::string("Battery:TimeControl:Conf") + kDays[d]).value;
    for (int i = 0; i < 96 && i < int(text.size()); ++i)
      plan[d][i] = static_cast<sim::SlotRule>(text[i] - '0');
  }
  return plan;
}

}  // namespace

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

// --- auth ----------------------------------------------------------------------------------

Simulator::Json Simulator::auth_start(net::ServerRequest& req) {
  auto body = net::parse_json_object(req.body, "payload");
  if (!body) return invalid_payload("payload", "is not a JSON object");
  auto user = net::get_string(*body, "username", "payload");
  auto nonce = net::get_string(*body, "nonce", "payload");
  if (!user || (*user != "user" && *user != "master")) return message(400, "Invalid user");
  if (!nonce || !crypto::base64_decode(*nonce) || nonce->empty())
    return invalid_payload("nonce", "must be the Base64 of a random nonce");
  std::lock_guard lock(mutex_);
  auto& account = *user == "user" ? owner_ : master_;
  auto now = clock_.now();
  if (account.locked_until && now < *account.locked_until) return message(403, "User is locked");
  Txn t;
  t.user = *user;
  t.client_nonce = *nonce;
  // r = client nonce + server nonce (RFC 5802); canonical Base64 when the client's is 16 chars.
  t.nonce = *nonce + crypto::base64_encode(crypto::random_bytes(12));
  if (!crypto::base64_decode(t.nonce)) t.nonce = crypto::base64_encode(crypto::random_bytes(24));
  t.salt_b64 = crypto::base64_encode(account.credential.salt);
  t.rounds = account.credential.rounds;
  t.created = now;
  auto id = random_hex(32);
  // Forget transactions nobody finished within a minute.
  std::erase_if(txns_, [&](const auto& kv) { return now - kv.second.created > minutes(1); });
  txns_[id] = t;
  return reply(
      200,
      json::object{
          {"nonce", t.nonce}, {"transactionId", id}, {"salt", t.salt_b64}, {"rounds", t.rounds}});
}

Simulator::Json Simulator::auth_finish(net::ServerRequest& req) {
  auto body = net::parse_json_object(req.body, "payload");
  if (!body) return invalid_payload("payload", "is not a JSON object");
  auto id = net::get_string(*body, "transactionId", "payload");
  auto proof_b64 = net::get_string(*body, "proof", "payload");
  if (!id || !proof_b64) return invalid_payload("proof", "transactionId and proof are required");
  std::lock_guard lock(mutex_);
  auto it = txns_.find(*id);
  if (it == txns_.end() || it->second.finished) return message(400, "Transaction not found");
  auto& t = it->second;
  auto& account = t.user == "user" ? owner_ : master_;
  auto msg = auth_message(t.user, t.client_nonce, t.nonce, t.salt_b64, t.rounds);
  auto proof = crypto::base64_decode(*proof_b64);
  auto client_key =
      proof ? verify_proof(account.credential, msg, *proof) : std::optional<std::string>{};
  if (!client_key) {
    txns_.erase(it);
    if (++account.failures >= options_.lock_after) {
      account.locked_until = clock_.now() + options_.lock_for;
      account.failures = 0;
    }
    return message(400, "authentication failed");
  }
  account.failures = 0;
  t.finished = true;
  t.client_key = *client_key;
  t.token = random_hex(32);
  return reply(
      200, json::object{
               {"token", t.token},
               {"signature", crypto::base64_encode(server_signature(account.credential, msg))}});
}

Simulator::Json Simulator::auth_create_session(net::ServerRequest& req) {
  auto body = net::parse_json_object(req.body, "payload");
  if (!body) return invalid_payload("payload", "is not a JSON object");
  auto id = net::get_string(*body, "transactionId", "payload");
  auto iv = net::get_string(*body, "iv", "payload");
  auto tag = net::get_string(*body, "tag", "payload");
  auto payload = net::get_string(*body, "payload", "payload");
  if (!id || !iv || !tag || !payload)
    return invalid_payload("payload", "transactionId, iv, tag and payload are required");
  std::lock_guard lock(mutex_);
  auto it = txns_.find(*id);
  if (it == txns_.end() || !it->second.finished) return message(400, "Transaction not found");
  Txn t = it->second;
  txns_.erase(it);
  auto& account = t.user == "user" ? owner_ : master_;
  auto msg = auth_message(t.user, t.client_nonce, t.nonce, t.salt_b64, t.rounds);
  auto key = protocol_key(account.credential.stored_key, msg, t.client_key);
  auto iv_raw = crypto::base64_decode(*iv), tag_raw = crypto::base64_decode(*tag),
       ct = crypto::base64_decode(*payload);
  if (!iv_raw || !tag_raw || !ct) return message(400, "authentication failed");
  auto plain = crypto::aes256gcm_decrypt(key, *iv_raw, *ct, *tag_raw);
  std::string expected = t.token;
  if (t.user == "master") expected += ":" + options_.service_code;
  if (!plain || !crypto::equal_constant_time(*plain, expected))
    return message(400, "authentication failed");
  auto session = random_hex(32);
  sessions_[session] = {t.user == "user" ? Role::User : Role::Installer, clock_.now()};
  return reply(200, json::object{{"sessionId", session}});
}

Simulator::Json Simulator::auth_me(net::ServerRequest& req) {
  std::lock_guard lock(mutex_);
  auto role = role_of(req);
  bool locked = owner_.locked_until && clock_.now() < *owner_.locked_until;
  json::array permissions;
  if (role == Role::User) permissions = {"read", "write_user"};
  if (role == Role::Installer) permissions = {"read", "write_user", "write_installer"};
  return reply(200, json::object{{"role", role == Role::User        ? "USER"
                                          : role == Role::Installer ? "INSTALLER"
                                                                    : "NONE"},
                                 {"anonymous", role == Role::None},
                                 {"locked", locked},
                                 {"permissions", permissions},
                                 {"active", role != Role::None},
                                 {"authenticated", role != Role::None}});
}

Simulator::Json Simulator::auth_logout(net::ServerRequest& req) {
  std::lock_guard lock(mutex_);
  if (role_of(req) == Role::None) return message(401, kUnauthorized);
  auto h = req.header("authorization");
  sessions_.erase(std::string(h.substr(8)));
  return reply(200, json::object{});
}

Simulator::Json Simulator::auth_set_password(net::ServerRequest& req) {
  std::lock_guard lock(mutex_);
  auto role = role_of(req);
  if (role == Role::None) return message(401, kUnauthorized);
  auto body = net::parse_json_object(req.body, "payload");
  if (!body) return invalid_payload("payload", "is not a JSON object");
  auto pw = net::get_string(*body, "password", "payload");
  if (!pw) return invalid_payload("password", "is required");
  if (pw->size() < 8 || pw->size() > 64)
    return invalid_payload("password", "must have 8 to 64 characters");
  options_.owner_password = *pw;
  owner_.credential = make_credential(*pw, crypto::random_bytes(12), options_.rounds);
  owner_.failures = 0;
  owner_.locked_until.reset();
  // The owner's other sessions end with the old password.
  std::erase_if(sessions_, [&](const auto& kv) {
    return kv.second.role == Role::User && kv.first != req.header("authorization").substr(8);
  });
  return reply(200, json::object{});
}

// --- process data --------------------------------------------------------------------------

Simulator::Json Simulator::processdata_get(net::ServerRequest& req) {
  std::lock_guard lock(mutex_);
  if (role_of(req) == Role::None) return message(401, kUnauthorized);
  advance_locked();
  auto all = process_data_locked();
  auto mid = req.params.find("module");
  if (mid == req.params.end()) {  // GET /processdata: the ids of every module
    json::array out;
    for (const auto& [module, list] : all) {
      json::array ids;
      for (const auto& p : list) ids.push_back(json::value(p.id));
      out.push_back(json::object{{"moduleid", module}, {"processdataids", ids}});
    }
    return reply(200, out);
  }
  auto module = all.find(mid->second);
  if (module == all.end()) return message(404, "Module not found");
  std::vector<std::string> wanted;
  if (auto ids = req.params.find("ids"); ids != req.params.end())
    wanted = split_commas(ids->second);
  json::array values;
  for (const auto& p : module->second)  // sorted by id, whatever the request's order
    if (wanted.empty() || std::find(wanted.begin(), wanted.end(), p.id) != wanted.end())
      values.push_back(json::object{{"id", p.id}, {"unit", p.unit}, {"value", p.value}});
  for (const auto& w : wanted)
    if (std::none_of(module->second.begin(), module->second.end(),
                     [&](const Pd& p) { return p.id == w; }))
      return message(404, "Module or process-data not found");
  return reply(200,
               json::array{json::object{{"moduleid", module->first}, {"processdata", values}}});
}

Simulator::Json Simulator::processdata_post(net::ServerRequest& req) {
  auto body = net::parse_json(req.body, "payload");
  if (!body || !body->is_array()) return invalid_payload("payload", "must be a JSON array");
  std::lock_guard lock(mutex_);
  if (role_of(req) == Role::None) return message(401, kUnauthorized);
  advance_locked();
  auto all = process_data_locked();
  json::array out;
  for (const auto& item : body->as_array()) {
    if (!item.is_object()) return invalid_payload("payload", "items must be objects");
    auto mid = net::get_string(item.as_object(), "moduleid", "payload");
    const auto* ids = item.as_object().if_contains("processdataids");
    if (!mid || !ids || !ids->is_array())
      return invalid_payload("processdataids", "moduleid and processdataids are required");
    auto module = all.find(*mid);
    if (module == all.end()) return message(404, "Module not found");
    json::array values;
    for (const auto& p : module->second) {
      bool want = std::any_of(ids->as_array().begin(), ids->as_array().end(),
                              [&](auto& v) { return v.is_string() && v.as_string() == p.id; });
      if (want) values.push_back(json::object{{"id", p.id}, {"unit", p.unit}, {"value", p.value}});
    }
    if (values.size() != ids->as_array().size())
      return message(404, "Module or process-data not found");
    out.push_back(json::object{{"moduleid", *mid}, {"processdata", values}});
  }
  return reply(200, out);
}

// --- settings ------------------------------------------------------------------------------

Simulator::Json Simulator::settings_meta(net::ServerRequest& req) {
  std::lock_guard lock(mutex_);
  auto role = role_of(req);
  if (role == Role::None) return message(401, kUnauthorized);
  json::array out;
  for (const auto& [module, list] : settings_) {
    json::array items;
    for (const auto& [id, s] : list) {
      bool writable = !s.readonly && (!s.installer_only || role == Role::Installer);
      auto num = [](const std::optional<double>& v) -> json::value {
        return v ? json::value(net::to_json(json::value(*v))) : json::value(nullptr);
      };
      items.push_back(json::object{
          {"min", num(s.min)},
          {"max", num(s.max)},
          {"default", s.default_value ? json::value(*s.default_value) : json::value(nullptr)},
          {"access", writable ? "readwrite" : "readonly"},
          {"unit", s.unit ? json::value(*s.unit) : json::value(nullptr)},
          {"id", id},
          {"type", s.type}});
    }
    out.push_back(json::object{{"moduleid", module}, {"settings", items}});
  }
  return reply(200, out);
}

Simulator::Json Simulator::settings_get(net::ServerRequest& req) {
  std::lock_guard lock(mutex_);
  if (role_of(req) == Role::None) return message(401, kUnauthorized);
  auto module = settings_.find(req.params["module"]);
  if (module == settings_.end()) return message(404, "Module or setting not found");
  std::vector<std::string> wanted;
  if (auto ids = req.params.find("ids"); ids != req.params.end())
    wanted = split_commas(ids->second);
  json::array out;
  for (const auto& w : wanted)
    if (!module->second.contains(w)) return message(404, "Module or setting not found");
  for (const auto& [id, s] : module->second)
    if (wanted.empty() || std::find(wanted.begin(), wanted.end(), id) != wanted.end())
      out.push_back(json::object{{"id", id}, {"value", s.value}});
  return reply(200, out);  // flat: no moduleid wrapper (protocols.md §1.6)
}

Simulator::Json Simulator::settings_post(net::ServerRequest& req) {
  auto body = net::parse_json(req.body, "payload");
  if (!body || !body->is_array()) return invalid_payload("payload", "must be a JSON array");
  std::lock_guard lock(mutex_);
  if (role_of(req) == Role::None) return message(401, kUnauthorized);
  json::array out;
  for (const auto& item : body->as_array()) {
    if (!item.is_object()) return invalid_payload("payload", "items must be objects");
    auto mid = net::get_string(item.as_object(), "moduleid", "payload");
    const auto* ids = item.as_object().if_contains("settingids");
    if (!mid || !ids || !ids->is_array())
      return invalid_payload("settingids", "moduleid and settingids are required");
    auto module = settings_.find(*mid);
    if (module == settings_.end()) return message(404, "Module or setting not found");
    json::array values;
    for (const auto& v : ids->as_array()) {
      if (!v.is_string()) return invalid_payload("settingids", "ids must be strings");
      auto s = module->second.find(std::string(v.as_string()));
      if (s == module->second.end()) return message(404, "Module or setting not found");
      values.push_back(json::object{{"value", s->second.value}, {"id", s->first}});
    }
    out.push_back(json::object{{"moduleid", *mid}, {"settings", values}});
  }
  return reply(200, out);
}

Simulator::Json Simulator::settings_put(net::ServerRequest& req) {
  auto body = net::parse_json(req.body, "payload");
  if (!body || !body->is_array()) return invalid_payload("payload", "must be a JSON array");
  std::lock_guard lock(mutex_);
  auto role = role_of(req);
  if (role == Role::None) return message(401, kUnauthorized);
  advance_locked();
  // Validate everything first: a request is applied whole or not at all.
  struct Write {
    std::string module, id, value;
  };
  std::vector<Write> writes;
  for (const auto& item : body->as_array()) {
    if (!item.is_object()) return invalid_payload("payload", "items must be objects");
    auto mid = net::get_string(item.as_object(), "moduleid", "payload");
    const auto* list = item.as_object().if_contains("settings");
    if (!mid || !list || !list->is_array())
      return invalid_payload("settings", "moduleid and settings are required");
    auto module = settings_.find(*mid);
    if (module == settings_.end()) return message(404, "Module or setting not found");
    for (const auto& v : list->as_array()) {
      if (!v.is_object()) return invalid_payload("settings", "items must be objects");
      auto id = net::get_string(v.as_object(), "id", "settings");
      const auto* value = v.as_object().if_contains("value");
      if (!id || !value) return invalid_payload("settings", "id and value are required");
      // Values are strings on the wire, always (protocols.md §1.6).
      if (!value->is_string()) return invalid_payload("value", "'" + *id + "' must be a string");
      auto s = module->second.find(*id);
      if (s == module->second.end()) return message(404, "Module or setting not found");
      const auto& def = s->second;
      if (def.readonly || (def.installer_only && role != Role::Installer))
        return message(403, "Access denied: '" + *id + "' cannot be written with role " +
                                (role == Role::User ? "USER" : "INSTALLER"));
      std::string text(value->as_string());
      if (def.type == "string") {
        if (id->starts_with("Battery:TimeControl:Conf") &&
            (text.size() != 96 || text.find_first_not_of("012") != std::string::npos))
          return message(400,
                         "Invalid value for '" + *id + "': 96 characters of 0, 1 or 2 expected");
      } else {
        char* end = nullptr;
        double n = std::strtod(text.c_str(), &end);
        bool integral = def.type != "float";
        if (text.empty() || *end != '\0' || !std::isfinite(n) || (integral && n != std::floor(n)))
          return message(400, "Invalid value for '" + *id + "': '" + text + "' is not a" +
                                  (integral ? "n integer" : " number"));
        if ((def.min && n < *def.min) || (def.max && n > *def.max))
          return message(400, "Invalid value for '" + *id + "': " + text + " is outside " +
                                  net::to_json(json::value(def.min.value_or(0))) + ".." +
                                  net::to_json(json::value(def.max.value_or(0))));
        text = def.type == "float" ? float_text(n) : std::to_string(std::int64_t(n));
      }
      writes.push_back({*mid, *id, text});
    }
  }
  for (const auto& w : writes) {
    if (ignore_writes_.erase(w.id)) continue;
    // Dynamic SoC manages the minimum itself: a write is accepted and has no effect.
    if (w.id == "Battery:MinSoc" &&
        settings_["devices:local"]["Battery:DynamicSoc:Enable"].value == "1")
      continue;
    settings_[w.module][w.id].value = w.value;
    apply_setting_locked(w.module, w.id);
  }
  return reply(200, *body);  // the request echoed, as the device does (not authoritative)
}

// --- events, log data ----------------------------------------------------------------------

Simulator::Json Simulator::events_latest(net::ServerRequest& req) {
  static const std::set<std::string> kLanguages = {"de-de", "en-gb", "es-es", "fr-fr",
                                                   "hu-hu", "it-it", "nl-nl", "pl-pl",
                                                   "pt-pt", "cs-cz", "el-gr", "zh-cn"};
  std::size_t max = 10;
  if (!req.body.empty()) {  // POST with {language, max}; GET without a body
    auto body = net::parse_json_object(req.body, "payload");
    if (!body) return invalid_payload("payload", "is not a JSON object");
    if (auto lang = body->if_contains("language")) {
      if (!lang->is_string() || !kLanguages.contains(std::string(lang->as_string())))
        return invalid_payload("language", "unknown language");
    }
    if (auto m = body->if_contains("max")) {
      if (!m->is_int64() || m->as_int64() < 1)
        return invalid_payload("max", "must be a positive integer");
      max = std::size_t(m->as_int64());
    }
  }
  std::lock_guard lock(mutex_);
  if (role_of(req) == Role::None) return message(401, kUnauthorized);
  json::array out;
  for (auto it = events_.rbegin(); it != events_.rend() && out.size() < max; ++it)
    out.push_back(json::object{{"start_time", local_iso(it->start)},
                               {"end_time", it->end ? local_iso(*it->end) : local_iso(it->start)},
                               {"code", it->code},
                               {"long_description", it->long_description},
                               {"category", it->category},
                               {"description", it->description},
                               {"group", it->group},
                               {"is_active", !it->end.has_value()}});
  return reply(200, out);
}

Simulator::Json Simulator::logdata(net::ServerRequest& req) {
  std::optional<date::local_days> begin, end;
  auto parse_day = [](const std::string& s) -> std::optional<date::local_days> {
    int y = 0, m = 0, d = 0;
    char tail = 0;
    if (s.size() != 10 || std::sscanf(s.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
      return std::nullopt;
    date::year_month_day ymd{date::year{y}, date::month(unsigned(m)), date::day(unsigned(d))};
    if (!ymd.ok()) return std::nullopt;
    return date::local_days(ymd);
  };
  std::string b, e;
  if (!req.body.empty()) {
    auto body = net::parse_json_object(req.body, "payload");
    if (!body) return invalid_payload("payload", "is not a JSON object");
    if (auto v = body->if_contains("begin"); v && v->is_string()) b = v->as_string();
    if (auto v = body->if_contains("end"); v && v->is_string()) e = v->as_string();
  } else {
    b = req.query["begin"];
    e = req.query["end"];
  }
  if (!b.empty() && !(begin = parse_day(b)))
    return invalid_payload("begin", "must be a date YYYY-MM-DD");
  if (!e.empty() && !(end = parse_day(e)))
    return invalid_payload("end", "must be a date YYYY-MM-DD");
  std::lock_guard lock(mutex_);
  if (role_of(req) == Role::None) return message(401, kUnauthorized);
  advance_locked();
  std::size_t strings = site_.config().strings.size();
  std::ostringstream out;
  out << "Wechselrichter Typ:\t" << options_.product << " " << options_.power_class << "\n"
      << "Wechselrichter Name:\t" << options_.hostname << "\n"
      << "Wechselrichter Seriennummer:\t" << options_.serial << "\n"
      << "Datei erstellt am:\t" << local_iso(clock_.now()) << "\n"
      << "Logdaten U[V], I[mA], P[W], E[kWh], F[Hz], R[kOhm], Ain T[digit], Zeit[sec]\n"
      << "Zeit";
  for (std::size_t i = 1; i <= strings; ++i)
    out << "\tDC" << i << " U\tDC" << i << " I\tDC" << i << " P";
  for (int i = 1; i <= 3; ++i) out << "\tAC" << i << " U\tAC" << i << " I\tAC" << i << " P";
  out << "\tAC F\tSOC H\tBAT U\tBAT I\tBAT P\tHC1 P\tHC2 P\tHC3 P\tGRID P\ttotal E\n";
  auto day_of = [&](TimePoint t) { return date::floor<date::days>(zone_->to_local(t)); };
  char buf[64];
  auto num = [&](double v, int decimals) {
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return std::string(buf);
  };
  for (const auto& r : log_) {
    auto d = day_of(r.time);
    if ((begin && d < *begin) || (end && d > *end)) continue;
    out << duration_cast<seconds>(r.time.time_since_epoch()).count();
    for (std::size_t i = 0; i < strings; ++i) {
      const auto& s = i < r.strings.size() ? r.strings[i] : sim::StringState{};
      out << '\t' << num(s.voltage_v, 0) << '\t' << num(s.current_a * 1000, 0) << '\t'
          << num(s.power_w, 0);
    }
    for (int i = 0; i < 3; ++i)
      out << '\t' << num(r.ac_u[i], 0) << '\t' << num(r.ac_i[i] * 1000, 0) << '\t'
          << num(r.ac_p[i], 0);
    out << '\t' << num(r.frequency, 2) << '\t' << num(r.soc, 0) << '\t' << num(r.bat_u, 1) << '\t'
        << num(r.bat_i * 1000, 0) << '\t' << num(r.bat_p, 0) << '\t' << num(r.home_pv, 0) << '\t'
        << num(r.home_bat, 0) << '\t' << num(r.home_grid, 0) << '\t' << num(r.grid_p, 0) << '\t'
        << num(r.total_e_kwh, 0) << '\n';
  }
  auto res = net::ServerResponse::text(200, out.str());
  res.headers.emplace_back("Content-Disposition", "attachment; filename=\"LogData.dat\"");
  return res;
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
