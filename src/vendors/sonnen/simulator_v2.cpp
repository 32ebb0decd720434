// The sonnenBatterie JSON API v2 of the simulator (protocols.md §3.2, §3.3). What the public
// material does not say is decided in docs/vendors/sonnen.md ("API v2").
#include <boost/json.hpp>
#include <cmath>
#include <set>

#include "net/json.hpp"
#include "sim/http_faults.hpp"
#include "vendors/sonnen/simulator.hpp"

namespace sb::sonnen {

namespace json = boost::json;

namespace {

net::ServerResponse v2_json(int status, const json::value& v) {
  return net::ServerResponse::json(status, net::to_json(v));
}

net::ServerResponse v2_error(int status, std::string message) {
  return v2_json(status, json::object{{"error", std::move(message)}});
}

// The body the device gives a configuration it refuses (protocols.md §3.2, from the ToU case).
net::ServerResponse validation_failed(const std::string& key, std::string why) {
  return v2_json(400, json::object{{"error", "validation failed"},
                                   {"details", json::object{{key, std::move(why)}}}});
}

std::optional<int> whole(const std::string& s, int lo, int hi) {
  if (s.empty() || s.size() > 6 || s.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  int v = std::stoi(s);
  if (v < lo || v > hi) return std::nullopt;
  return v;
}

// "HH:MM" -> minutes from midnight ("24:00" allowed as an end).
std::optional<int> clock_minutes(std::string_view s) {
  if (s.size() != 5 || s[2] != ':') return std::nullopt;
  auto h = whole(std::string(s.substr(0, 2)), 0, 24);
  auto m = whole(std::string(s.substr(3, 2)), 0, 59);
  if (!h || !m || (*h == 24 && *m != 0)) return std::nullopt;
  return *h * 60 + *m;
}

struct TouWindow {
  int start, stop;
  double threshold_w;
};

// EM_ToU_Schedule: a JSON string of [{"start":"HH:MM","stop":"HH:MM","threshold_p_max":W}],
// windows that do not overlap; "[]" clears. The error names the window and the field.
Result<std::vector<TouWindow>> parse_tou(const std::string& text) {
  json::value v;
  try {
    v = json::parse(text);
  } catch (const std::exception&) {
    return fail(ErrorKind::InvalidArgument, "not a JSON array");
  }
  if (!v.is_array()) return fail(ErrorKind::InvalidArgument, "not a JSON array");
  std::vector<TouWindow> out;
  int i = 0;
  for (const auto& e : v.as_array()) {
    ++i;
    std::string at = "window " + std::to_string(i);
    if (!e.is_object()) return fail(ErrorKind::InvalidArgument, at + " is not an object");
    const auto& o = e.as_object();
    auto start = o.contains("start") && o.at("start").is_string()
                     ? clock_minutes(o.at("start").as_string())
                     : std::nullopt;
    auto stop = o.contains("stop") && o.at("stop").is_string()
                    ? clock_minutes(o.at("stop").as_string())
                    : std::nullopt;
    if (!start || *start >= 1440) return fail(ErrorKind::InvalidArgument, at + ": bad start");
    if (!stop || *stop <= *start) return fail(ErrorKind::InvalidArgument, at + ": bad stop");
    auto p = o.contains("threshold_p_max") ? net::as_double(o.at("threshold_p_max"))
                                           : std::optional<double>();
    if (!p || *p < 0) return fail(ErrorKind::InvalidArgument, at + ": bad threshold_p_max");
    for (const auto& w : out)
      if (*start < w.stop && w.start < *stop)
        return fail(ErrorKind::InvalidArgument, at + " overlaps another window");
    out.push_back({*start, *stop, *p});
  }
  return out;
}

const std::set<std::string> kModes = {"1", "2", "6", "10"};

}  // namespace

void Simulator::apply_configuration_locked() {
  const auto& mode = config_["EM_OperatingMode"];
  site_.set_reserve_soc(whole(config_["EM_USOC"], 0, 100).value_or(0));
  site_.set_day_plan({});
  if (mode == "1") {
    // Manual: the battery does what the last setpoint said, nothing until there is one.
    if (!site_.battery_setpoint()) site_.set_battery_setpoint(0.0);
    return;
  }
  site_.set_battery_setpoint(std::nullopt);
  if (mode == "6") site_.set_reserve_soc(std::max(site_.reserve_soc(), 30.0));
  if (mode == "10") {  // time of use: charge from the grid in each window, up to its threshold
    auto windows = parse_tou(config_["EM_ToU_Schedule"]);
    if (!windows) return;
    std::vector<sim::DaySegment> plan;
    for (const auto& w : *windows)
      plan.push_back({w.start, w.stop, sim::SegmentMode::Charge,
                      std::min(w.threshold_w, site_.config().battery.max_charge_w), 0, 100});
    site_.set_day_plan(std::move(plan));
  }
}

void Simulator::routes_v2(net::Router& r) {
  // Every v2 request passes the fault plan, then the token (status excepted: it needs none).
  auto guarded = [this](bool token_needed, auto handler) {
    return sim::with_faults(http_->gate(), faults_, requests_,
                            {[] { return v2_error(500, "internal error"); },
                             [this, token_needed]() -> std::optional<net::ServerResponse> {
                               if (options_.token.empty())
                                 return v2_error(404, "not found");  // a v1-only device
                               return std::nullopt;
                             }},
                            [this, token_needed, handler](net::ServerRequest& req) {
                              if (token_needed && req.header("Auth-Token") != options_.token) {
                                if (options_.empty_on_bad_token)
                                  return v2_json(200, json::object{});
                                return v2_error(401, "unauthorized");
                              }
                              std::lock_guard lock(mutex_);
                              advance_locked();
                              return handler(req);
                            });
  };

  r.get("/api/v2/status", guarded(false, [this](net::ServerRequest&) {
          auto st = status_locked();
          auto o = json::parse(serialize_status(st)).as_object();
          const auto& s = site_.state();
          o["GridFeedIn_W"] = std::round(-s.grid_w);
          o["OperatingMode"] = config_["EM_OperatingMode"];
          o["BackupBuffer"] = config_["EM_USOC"];
          o["SystemStatus"] = "OnGrid";
          o["BatteryCharging"] = s.battery_w < -1;
          o["BatteryDischarging"] = s.battery_w > 1;
          o["RemainingCapacity_Wh"] =
              std::round(s.soc_percent / 100 * site_.config().battery.capacity_wh);
          return v2_json(200, o);
        }));

  r.get("/api/v2/latestdata", guarded(true, [this](net::ServerRequest&) {
          auto st = status_locked();
          const auto& s = site_.state();
          const auto& b = site_.config().battery;
          auto setpoint = site_.battery_setpoint().value_or(0);
          json::object ic{{"nrbatterymodules", std::stoi(config_["IC_BatteryModules"])},
                          {"statebms", "ready"},
                          {"statecorecontrolmodule", "ongrid"},
                          {"stateinverter", "running"},
                          {"secondssincefullcharge", 3600},
                          {"Eclipse Led", json::object{{"Pulsing Green", s.battery_w == 0},
                                                       {"Solid Red", false}}}};
          return v2_json(200, json::object{{"Consumption_W", std::round(st.Consumption_W)},
                                           {"FullChargeCapacity", b.capacity_wh},
                                           {"GridFeedIn_W", std::round(-s.grid_w)},
                                           {"Pac_total_W", std::round(st.Pac_total_W)},
                                           {"Production_W", std::round(st.Production_W)},
                                           {"RSOC", std::round(st.RSOC)},
                                           {"SetPoint_W", std::round(setpoint)},
                                           {"Timestamp", st.Timestamp},
                                           {"USOC", std::round(st.USOC)},
                                           {"UTC_Offet", 1},  // sic, as real devices spell it
                                           {"ic_status", std::move(ic)}});
        }));

  r.get("/api/v2/configurations", guarded(true, [this](net::ServerRequest&) {
          json::object o;
          for (const auto& [k, v] : config_) o[k] = v;
          return v2_json(200, o);
        }));

  r.get("/api/v2/configurations/{key}", guarded(true, [this](net::ServerRequest& req) {
          const auto& key = req.params["key"];
          auto it = config_.find(key);
          if (it == config_.end()) return v2_error(404, "configuration '" + key + "' not found");
          return v2_json(200, json::object{{key, it->second}});
        }));

  r.put("/api/v2/configurations", guarded(true, [this](net::ServerRequest& req) {
          json::value body;
          try {
            body = json::parse(req.body);
          } catch (const std::exception&) {
            return v2_error(400, "request body is not JSON");
          }
          if (!body.is_object() || body.as_object().empty())
            return v2_error(400, "request body must be a JSON object of configuration items");
          // Checked whole before anything changes: one bad item refuses the request.
          for (const auto& [k, v] : body.as_object()) {
            std::string key(k);
            if (!v.is_string()) return validation_failed(key, "must be a string");
            std::string value(v.as_string());
            if (key == "EM_OperatingMode") {
              if (!kModes.contains(value))
                return validation_failed(key, "must be one of 1, 2, 6, 10");
            } else if (key == "EM_USOC") {
              if (!whole(value, 0, 100)) return validation_failed(key, "must be 0..100");
            } else if (key == "EM_Prognosis_Charging") {
              if (value != "0" && value != "1") return validation_failed(key, "must be 0 or 1");
            } else if (key == "EM_ToU_Schedule") {
              if (auto t = parse_tou(value); !t) return validation_failed(key, t.error().message);
            } else {
              return validation_failed(
                  key, config_.contains(key) ? "is read-only" : "is not a configuration");
            }
          }
          json::object echo;
          for (const auto& [k, v] : body.as_object()) {
            config_[std::string(k)] = std::string(v.as_string());
            echo[k] = v;
          }
          apply_configuration_locked();
          return v2_json(200, echo);
        }));

  auto setpoint = guarded(true, [this](net::ServerRequest& req) {
    const auto& dir = req.params["direction"];
    if (dir != "charge" && dir != "discharge") return v2_error(404, "not found");
    if (options_.vpp_priority)
      return v2_error(403, "a virtual power plant operator has priority over this battery");
    if (config_["EM_OperatingMode"] != "1")
      return validation_failed(
          "EM_OperatingMode", "setpoints need manual mode (1), not " + config_["EM_OperatingMode"]);
    const auto& b = site_.config().battery;
    auto watts = whole(req.params["watts"], 0,
                       static_cast<int>(dir == "charge" ? b.max_charge_w : b.max_discharge_w));
    if (!watts) return v2_error(400, "watts must be a whole number within the battery's rating");
    site_.set_battery_setpoint(dir == "charge" ? -double(*watts) : double(*watts));
    setpoint_at_ = clock_.now();
    return v2_json(200, json::value(true));
  });
  r.post("/api/v2/setpoint/{direction}/{watts}", setpoint);

  r.get("/api/v2/battery", guarded(true, [this](net::ServerRequest&) {
          const auto& s = site_.state();
          const auto& b = site_.config().battery;
          return v2_json(
              200,
              json::object{
                  {"balancechargerequest", 0},
                  {"chargecurrentlimit", std::round(b.max_charge_w / s.battery_voltage_v)},
                  {"cyclecount", 412},
                  {"dischargecurrentlimit", std::round(b.max_discharge_w / s.battery_voltage_v)},
                  {"fullchargecapacity", b.capacity_wh / s.battery_voltage_v},
                  {"fullchargecapacitywh", b.capacity_wh},
                  {"maximumcelltemperature", s.battery_temperature_c + 1},
                  {"minimumcelltemperature", s.battery_temperature_c - 1},
                  {"relativestateofcharge", std::round(s.soc_percent)},
                  {"remainingcapacity", s.soc_percent / 100 * b.capacity_wh / s.battery_voltage_v},
                  {"systemcurrent", s.battery_current_a},
                  {"systemstatus", 49},
                  {"systemvoltage", s.battery_voltage_v},
                  {"serialnumber", options_.serial}});
        }));

  r.get("/api/v2/inverter", guarded(true, [this](net::ServerRequest&) {
          const auto& s = site_.state();
          return v2_json(200, json::object{{"fac", s.frequency_hz},
                                           {"pac_total", std::round(s.battery_w)},
                                           {"uac", s.ac_voltage_v},
                                           {"ubat", s.battery_voltage_v},
                                           {"tmax", s.battery_temperature_c + 15}});
        }));

  r.get("/api/v2/powermeter", guarded(true, [this](net::ServerRequest&) {
          const auto& s = site_.state();
          const auto& c = site_.counters();
          auto meter = [&](int n, const char* direction, double w, double kwh_imported) {
            return json::object{{"a_l1", w / s.ac_voltage_v},
                                {"channel", 1},
                                {"deviceid", n},
                                {"direction", direction},
                                {"error", 0},
                                {"kwh_exported", 0},
                                {"kwh_imported", kwh_imported},
                                {"v_l1_n", s.ac_voltage_v},
                                {"w_l1", w},
                                {"w_total", w}};
          };
          return v2_json(200, json::array{meter(4, "production", s.pv_w, c.pv_wh / 1000),
                                          meter(5, "consumption", s.load_w, c.load_wh / 1000)});
        }));

  r.get("/api/v2/io", guarded(true, [](net::ServerRequest&) {
          return v2_json(200, json::object{{"DO_1", 0}, {"DO_2", 0}, {"DI_1", 0}, {"DI_2", 0}});
        }));
}

}  // namespace sb::sonnen
