// The Enphase simulator's System Configurations (battery settings, storm guard, grid status, load
// control) and EV charger operations. Writes go into the system's timelines, which the 5-minute
// slots obey, so a change shows in every figure from the next slot on.
#include <date/date.h>

#include <algorithm>
#include <boost/json.hpp>
#include <sstream>

#include "vendors/enphase/simulator.hpp"
#include "vendors/enphase/simulator_detail.hpp"

namespace sb::enphase {

namespace json = boost::json;
using namespace std::chrono;
using namespace detail;

namespace {

const char* enabled(bool on) {
  return on ? "enabled" : "disabled";
}

// A JSON object body; nullopt when it is not one.
std::optional<json::object> object_body(const net::ServerRequest& req) {
  try {
    auto v = req.body.empty() ? json::value(json::object{}) : json::parse(req.body);
    if (v.is_object()) return v.as_object();
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

// "enabled" / "disabled" of a body field: nullopt when absent, an error text when neither.
struct Toggle {
  std::optional<bool> value;
  std::string error;
};
Toggle toggle(const json::object& o, const char* key) {
  auto v = o.if_contains(key);
  if (!v) return {};
  if (v->is_string() && (v->as_string() == "enabled" || v->as_string() == "disabled"))
    return {v->as_string() == "enabled", ""};
  return {std::nullopt, std::string(key) + " must be enabled or disabled"};
}

json::object battery_json(std::int64_t id, const BatterySettings& st) {
  return json::object{{"system_id", id},
                      {"battery_mode", st.mode},
                      {"reserve_soc", st.reserve_soc},
                      {"energy_independence", enabled(st.energy_independence)},
                      {"charge_from_grid", enabled(st.charge_from_grid)},
                      {"battery_shutdown_level", 10}};
}

json::array contacts_json(const std::vector<DryContact>& contacts) {
  json::array out;
  for (const auto& c : contacts)
    out.push_back(json::object{{"name", c.name},
                               {"load_name", c.load_name},
                               {"owner_can_override", c.owner_can_override},
                               {"mode", c.mode},
                               {"soc_low", c.soc_low},
                               {"soc_high", c.soc_high},
                               {"status", enabled(c.enabled)},
                               {"essential_start_time", c.essential_start},
                               {"essential_end_time", c.essential_end}});
  return out;
}

// The EV calls' 400 with a list of reasons (E5).
net::ServerResponse bad_request(std::string reason) {
  return e4(400, "Bad request", json::array{json::value(std::move(reason))});
}

net::ServerResponse accepted() {
  auto r = net::ServerResponse::json(
      202, net::to_json(json::object{{"message", "Request sent successfully"}}));
  r.content_type = "application/octet-stream";
  return r;
}

net::ServerResponse octet(const json::value& v) {
  auto r = ok(v);
  r.content_type = "application/octet-stream";
  return r;
}

}  // namespace

void Simulator::set_storm_alert(std::int64_t system, bool alert) {
  std::lock_guard lock(mutex_);
  auto* s = system_locked(system);
  if (!s) return;
  auto st = s->settings.back().second;
  st.storm_alert = alert;
  s->settings.emplace_back(epoch_s(clock_.now()), st);
}

BatterySettings Simulator::battery_settings(std::int64_t system) {
  std::lock_guard lock(mutex_);
  auto* s = system_locked(system);
  return s ? s->settings_at(epoch_s(clock_.now())) : BatterySettings{};
}

sim::Counters Simulator::energy_to(std::int64_t system, TimePoint t) {
  std::lock_guard lock(mutex_);
  auto* s = system_locked(system);
  if (!s) return {};
  auto e = energy_until(*s, std::min(t, clock_.now()));
  sim::Counters c;
  c.pv_wh = e.pv;
  c.load_wh = e.load;
  c.grid_import_wh = e.import;
  c.grid_export_wh = e.export_;
  c.battery_charge_wh = e.charge;
  c.battery_discharge_wh = e.discharge;
  return c;
}

double Simulator::ev_power_now(std::int64_t system) {
  std::lock_guard lock(mutex_);
  auto* s = system_locked(system);
  return s && s->cfg.ev_charger ? s->ev_power(clock_.now()) : 0;
}

void Simulator::add_config_routes(net::Router& r) {
  // The config paths put the id after `config` and type it as a string; the answers are the same.
  // A change is one more entry in the system's settings timeline, from now on.
  auto change = [this](System& s, BatterySettings st) {
    auto now = epoch_s(clock_.now());
    if (s.settings.back().first == now)
      s.settings.back().second = st;
    else
      s.settings.emplace_back(now, st);
  };
  const char* base = "/api/v4/systems/config/{system_id}/";
  r.get(std::string(base) + "battery_settings",
        api_route(Style::Quota, [this](net::ServerRequest& req, const std::string& user) {
          return in_system(Style::Quota, req, user, [&](System& s) {
            if (s.cfg.batteries() == 0) return unprocessable("System doesn't have encharges");
            return ok(battery_json(s.cfg.id, s.settings_at(epoch_s(clock_.now()))));
          });
        }));
  r.put(std::string(base) + "battery_settings",
        api_route(Style::Quota, [this, change](net::ServerRequest& req, const std::string& user) {
          return in_system(Style::Quota, req, user, [&](System& s) {
            if (s.cfg.batteries() == 0) return unprocessable("System doesn't have encharge");
            auto body = object_body(req);
            if (!body)
              return unprocessable("Invalid request because of 'the body is not a JSON object'");
            auto st = s.settings_at(epoch_s(clock_.now()));
            for (const auto& [k, v] : *body) {
              if (k == "battery_mode") {
                if (!v.is_string() ||
                    (v.as_string() != "Savings Mode" && v.as_string() != "Full Backup" &&
                     v.as_string() != "Self-consumption"))
                  return unprocessable(
                      "Invalid request because of 'battery_mode must be one of Savings Mode, "
                      "Full Backup, Self-consumption'");
                st.mode = std::string(v.as_string());
              } else if (k == "reserve_soc") {
                if (!v.is_int64() || v.as_int64() < 10 || v.as_int64() > 100)
                  return unprocessable(
                      "Invalid request because of 'reserve_soc must be a whole number from the "
                      "very low SoC limit (10) to 100'");
                st.reserve_soc = static_cast<int>(v.as_int64());
              } else if (k == "energy_independence" || k == "charge_from_grid") {
                auto t = toggle(*body, std::string(k).c_str());
                if (!t.error.empty())
                  return unprocessable("Invalid request because of '" + t.error + "'");
                (k == "energy_independence" ? st.energy_independence : st.charge_from_grid) =
                    *t.value;
              } else {
                return unprocessable("Invalid request because of '" + std::string(k) +
                                     " is not a valid parameter'");
              }
            }
            change(s, st);
            return ok(battery_json(s.cfg.id, st));
          });
        }));

  auto storm_json = [](std::int64_t id, const BatterySettings& st, bool display) {
    // The PUT answers in display words ("Enabled (Inactive)"), as the document's example does.
    std::string status = enabled(st.storm_guard);
    if (display)
      status = !st.storm_guard  ? "Disabled"
               : st.storm_alert ? "Enabled (Active)"
                                : "Enabled (Inactive)";
    return json::object{{"system_id", id},
                        {"storm_guard_status", status},
                        {"storm_alert", st.storm_alert ? "true" : "false"}};
  };
  r.get(
      std::string(base) + "storm_guard",
      api_route(Style::Quota, [this, storm_json](net::ServerRequest& req, const std::string& user) {
        return in_system(Style::Quota, req, user, [&](System& s) {
          if (s.cfg.batteries() == 0) return unprocessable("System doesn't have encharges");
          return ok(storm_json(s.cfg.id, s.settings_at(epoch_s(clock_.now())), false));
        });
      }));
  r.put(std::string(base) + "storm_guard",
        api_route(Style::Quota, [this, change, storm_json](net::ServerRequest& req,
                                                           const std::string& user) {
          return in_system(Style::Quota, req, user, [&](System& s) {
            if (s.cfg.batteries() == 0) return unprocessable("System doesn't have encharge");
            auto body = object_body(req);
            if (!body)
              return unprocessable("Invalid request because of 'the body is not a JSON object'");
            auto t = toggle(*body, "storm_guard_status");
            if (!t.error.empty())
              return unprocessable("Invalid request because of '" + t.error + "'");
            if (!t.value)
              return unprocessable("storm_guard_status is missing at Json body location");
            auto st = s.settings_at(epoch_s(clock_.now()));
            st.storm_guard = *t.value;
            change(s, st);
            return ok(storm_json(s.cfg.id, st, true));
          });
        }));

  r.get(std::string(base) + "grid_status",
        api_route(Style::Plain, [this](net::ServerRequest& req, const std::string& user) {
          return in_system(Style::Plain, req, user, [&](System& s) {
            auto now = epoch_s(clock_.now());
            if (s.operational_at > now)
              return unprocessable("grid_state not available as the site has not reported yet");
            bool outage = std::any_of(events_.begin(), events_.end(), [&](const SysEvent& e) {
              return e.system == s.cfg.id && e.type == 1101 && e.start <= now &&
                     (!e.end || *e.end > now);
            });
            return ok(json::object{{"system_id", s.cfg.id},
                                   {"grid_state", outage ? "Off Grid" : "On Grid"},
                                   {"last_report_date", last_report()}});
          });
        }));

  r.get(std::string(base) + "load_control",
        api_route(Style::Quota, [this](net::ServerRequest& req, const std::string& user) {
          return in_system(Style::Quota, req, user, [&](System& s) {
            return ok(json::object{{"system_id", s.cfg.id},
                                   {"load_control_data", contacts_json(s.contacts)}});
          });
        }));
  r.put(
      std::string(base) + "load_control",
      api_route(Style::Quota, [this](net::ServerRequest& req, const std::string& user) {
        return in_system(Style::Quota, req, user, [&](System& s) {
          auto body = object_body(req);
          if (!body)
            return unprocessable("Invalid request because of 'the body is not a JSON object'");
          auto name = body->if_contains("name");
          if (!name || !name->is_string())
            return unprocessable("name is missing at Json body location");
          auto it = std::find_if(s.contacts.begin(), s.contacts.end(),
                                 [&](const DryContact& c) { return c.name == name->as_string(); });
          if (it == s.contacts.end())
            return unprocessable("Invalid request because of 'no dry contact named " +
                                 std::string(name->as_string()) + "'");
          auto c = *it;
          static const char* modes[] = {"Scheduled",
                                        "Basic",
                                        "Advanced_BatteryPowered",
                                        "Manual_always_not_powered",
                                        "Manual_always_powered",
                                        "Advanced_GeneratorPowered"};
          for (const auto& [k, v] : *body) {
            if (k == "name" || k == "load_name") continue;
            if (k == "mode") {
              if (!v.is_string() || std::none_of(std::begin(modes), std::end(modes),
                                                 [&](const char* m) { return v.as_string() == m; }))
                return unprocessable(
                    "Invalid request because of 'mode does not have a valid value'");
              c.mode = std::string(v.as_string());
            } else if (k == "soc_low") {
              if (!v.is_int64() || v.as_int64() < 10 || v.as_int64() > 90)
                return unprocessable(
                    "Invalid request because of 'soc_low must be between 10 and 90'");
              c.soc_low = static_cast<int>(v.as_int64());
              c.soc_high = std::max(c.soc_high, std::min(100, c.soc_low + 20));
            } else if (k == "essential_start_time" || k == "essential_end_time") {
              if (!v.is_int64() || v.as_int64() < 0 || v.as_int64() > 86'400)
                return unprocessable("Invalid request because of '" + std::string(k) +
                                     " must be seconds from midnight (0 to 86400)'");
              (k == "essential_start_time" ? c.essential_start : c.essential_end) =
                  static_cast<int>(v.as_int64());
            } else {
              return unprocessable("Invalid request because of '" + std::string(k) +
                                   " is not a valid parameter'");
            }
          }
          if (c.mode == "Advanced_BatteryPowered" && !body->contains("soc_low"))
            return unprocessable("soc_low is mandatory for Advanced_BatteryPowered mode");
          *it = c;
          return ok(json::object{{"system_id", s.cfg.id},
                                 {"load_control_data", contacts_json(s.contacts)}});
        });
      }));
}

namespace {
// offset / limit of the EV lists; nullopt when one is not a whole number >= 0 (limit >= 1).
std::optional<std::pair<std::size_t, std::size_t>> offset_limit(const net::ServerRequest& req) {
  auto offset = int_param(req, "offset", 0, 2'147'483'647);
  auto limit = int_param(req, "limit", 1, 2'147'483'647);
  if (!offset.error.empty() || !limit.error.empty()) return std::nullopt;
  return std::make_pair(static_cast<std::size_t>(offset.value.value_or(0)),
                        static_cast<std::size_t>(limit.value.value_or(20)));
}

// A YYYYMMDD date.
std::optional<date::local_days> compact_date(const std::string& s) {
  if (s.size() != 8 || s.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  std::istringstream in(s);
  date::local_days d;
  in >> date::parse("%Y%m%d", d);
  if (in.fail()) return std::nullopt;
  return d;
}
}  // namespace

std::vector<Simulator::EvSession> Simulator::ev_sessions(System& s) {
  // The charger's runs in the slots of the last 30 days (and today), the newest first.
  auto now = clock_.now();
  auto from =
      from_ms(std::max(to_ms(now - hours(24 * 30)), s.operational_at * 1000) / 300'000 * 300'000);
  std::vector<EvSession> out;
  std::optional<EvSession> open;
  for (auto& [end, x] : slots_between(s, from, now)) {
    if (x.ev > 0) {
      if (!open) open = EvSession{epoch_s(end) - 300, 0, 0};
      open->end = epoch_s(end);
      open->wh += x.ev;
    } else if (open) {
      out.push_back(*open);
      open.reset();
    }
  }
  if (open) out.push_back(*open);
  std::reverse(out.begin(), out.end());
  return out;
}

void Simulator::add_ev_routes(net::Router& r) {
  // The charger in the path: this system's or a 400 naming both (E5 or E4 as the operation has).
  auto charger = [](System& s, const net::ServerRequest& req) {
    return s.cfg.ev_charger && req.params.at("serial_no") == ev_serial(s.cfg.id);
  };
  const std::string base = "/api/v4/systems/{system_id}/ev_charger/";
  r.get(base + "devices",
        api_route(Style::Ev, [this](net::ServerRequest& req, const std::string& user) {
          return in_system(Style::Ev, req, user, [&](System& s) {
            json::array list;
            if (s.cfg.ev_charger) {
              auto sn = ev_serial(s.cfg.id);
              list.push_back(json::object{{"id", sn + ":" + std::to_string(s.cfg.id)},
                                          {"sku", "IQ-EVSE-NA-1060-0100-0100"},
                                          {"status", "normal"},
                                          {"serial_number", sn},
                                          {"name", "IQ EV Charger"},
                                          {"model", "IQ-EVSE-60R"},
                                          {"part_number", "861-02006 09"},
                                          {"last_report_at", last_report()},
                                          {"firmware", "v0.04.17"},
                                          {"active", true}});
            }
            auto n = list.size();
            return octet(json::object{{"items", "devices"},
                                      {"total_devices", n},
                                      {"system_id", s.cfg.id},
                                      {"devices", json::object{{"ev_chargers", std::move(list)}}}});
          });
        }));
  r.get(base + "events",
        api_route(Style::Ev, [this](net::ServerRequest& req, const std::string& user) {
          return in_system(Style::Ev, req, user, [&](System& s) {
            auto page = offset_limit(req);
            if (!page) return bad_request("Invalid offset/limit");
            auto sn = ev_serial(s.cfg.id);
            json::array list;
            if (s.cfg.ev_charger &&
                (!req.query.contains("serial_num") || req.query.at("serial_num") == sn)) {
              // Each session as a start and a stop, the newest first.
              std::vector<json::object> all;
              for (const auto& x : ev_sessions(s)) {
                if (x.end < epoch_s(clock_.now()))
                  all.push_back(json::object{
                      {"status", "Info"},
                      {"triggered_date", x.end},
                      {"cleared_date", x.end},
                      {"details", "Charging stopped on IQ EV Charger (SNo. " + sn + ")."}});
                all.push_back(json::object{
                    {"status", "Info"},
                    {"triggered_date", x.start},
                    {"cleared_date", x.start},
                    {"details", "Charging started on IQ EV Charger (SNo. " + sn + ")."}});
              }
              for (auto i = page->first; i < all.size() && list.size() < page->second; ++i)
                list.push_back(std::move(all[i]));
            }
            auto n = list.size();
            return octet(
                json::object{{"count", n}, {"events", std::move(list)}, {"system_id", s.cfg.id}});
          });
        }));
  r.get(base + "{serial_no}/sessions",
        api_route(Style::Ev, [this, charger](net::ServerRequest& req, const std::string& user) {
          return in_system(Style::Ev, req, user, [&](System& s) {
            if (!charger(s, req)) return bad_request("Invalid system_id or serial_no");
            auto page = offset_limit(req);
            if (!page) return bad_request("Invalid offset/limit");
            auto all = ev_sessions(s);
            json::array list;
            for (auto i = page->first; i < all.size() && list.size() < page->second; ++i) {
              const auto& x = all[i];
              double wh = std::round(x.wh * 100) / 100;
              list.push_back(json::object{{"start_time", x.start},
                                          {"end_time", x.end},
                                          {"duration", x.end - x.start},
                                          {"energy_added", wh},
                                          {"charge_time", x.end - x.start},
                                          {"miles_added", std::round(wh / 1000 * 3.5 * 10) / 10},
                                          {"cost", std::round(wh / 1000 * 0.30 * 100) / 100}});
            }
            auto n = list.size();
            return octet(
                json::object{{"count", n}, {"system_id", s.cfg.id}, {"sessions", std::move(list)}});
          });
        }));
  r.get(base + "{serial_no}/schedules",
        api_route(Style::Ev, [this, charger](net::ServerRequest& req, const std::string& user) {
          return in_system(Style::Ev, req, user, [&](System& s) {
            if (!charger(s, req)) return e4(400, "Bad request", "Invalid system_id or serial_no");
            // The seeded evening session as the owner's custom schedule (minutes from midnight).
            json::object schedule{{"days", json::array{1, 3, 5, 7}},
                                  {"start_time", "1140"},
                                  {"end_time", "1290"},
                                  {"charging_level", 100}};
            return octet(json::object{
                {"system_id", s.cfg.id},
                {"charger_schedules", json::array{json::object{{"schedules", json::array{schedule}},
                                                               {"type", "Custom"},
                                                               {"is_active", false},
                                                               {"reminder_flag", true},
                                                               {"reminder_timer", 10}}}}});
          });
        }));
  r.get(base + "{serial_no}/lifetime",
        api_route(Style::Ev, [this, charger](net::ServerRequest& req, const std::string& user) {
          return in_system(Style::Ev, req, user, [&](System& s) {
            if (!charger(s, req)) return bad_request("Invalid system_id or serial_no");
            LocalDays L{s.zone};
            auto today = L.day(clock_.now());
            auto first = L.day(from_ms(s.operational_at * 1000));
            auto start = today - date::days(1), end = today - date::days(1);
            for (auto [key, out] : {std::pair{"start_date", &start}, {"end_date", &end}})
              if (auto it = req.query.find(key); it != req.query.end()) {
                auto d = compact_date(it->second);
                if (!d) return bad_request("Invalid start_date/end_date");
                *out = *d;
              }
            if (end < start || end >= today) return bad_request("Invalid start_date/end_date");
            if (start < first) start = first;
            // `consumption` is declared an object (the example shows an array): Wh by local date.
            json::object list;
            if (start <= end) {
              for (auto d = start; d <= end; d += date::days(1)) {
                double wh = 0;
                for (auto& [t, x] : slots_between(s, L.start(d), L.start(d + date::days(1))))
                  wh += x.ev;
                list[date::format("%F", d)] = std::llround(wh);
              }
            }
            return octet(json::object{{"system_id", s.cfg.id},
                                      {"start_date", date::format("%F", start)},
                                      {"consumption", std::move(list)}});
          });
        }));
  r.get(base + "{serial_no}/telemetry",
        api_route(Style::Ev, [this, charger](net::ServerRequest& req, const std::string& user) {
          return in_system(Style::Ev, req, user, [&](System& s) {
            if (!charger(s, req)) return bad_request("Invalid system_id or serial_no");
            auto granularity =
                req.query.contains("granularity") ? req.query.at("granularity") : "day";
            if (granularity != "day" && granularity != "week")
              return bad_request("Invalid granularity");
            LocalDays L{s.zone};
            auto now = clock_.now();
            auto start = L.start(L.day(now) - date::days(1));  // the previous day
            bool by_date = false;
            if (auto it = req.query.find("start_date"); it != req.query.end()) {
              auto d = compact_date(it->second);
              if (!d) return bad_request("Invalid start_date");
              start = L.start(*d);
              by_date = true;
            } else if (req.query.contains("start_at")) {
              auto at = int_param(req, "start_at", 0, 99'999'999'999);
              if (!at.error.empty() || !at.value) return bad_request("Invalid start_date");
              start = from_ms(*at.value * 1000);
            }
            if (start > now || start < now - hours(24 * 731))
              return bad_request("Invalid start_date");
            Window w{start, std::min(now, start + hours(granularity == "day" ? 24 : 24 * 7)),
                     by_date, granularity};
            json::array list;
            for (const auto& [end, x] : intervals(s, w, minutes(15)))
              list.push_back(
                  json::object{{"consumption", std::llround(x.ev)}, {"end_at", epoch_s(end)}});
            json::object o{{"granularity", granularity},
                           {"consumption", std::move(list)},
                           {"system_id", s.cfg.id}};
            if (by_date) {
              o["start_date"] = date::format("%F", L.day(w.start));
              o["end_date"] = date::format("%F", L.day(w.end - seconds(1)));
            } else {
              o["start_at"] = epoch_s(w.start);
              o["end_at"] = epoch_s(w.end);
            }
            return octet(o);
          });
        }));
  // Start and stop: accepted at once (202), the charger follows from the next slot.
  r.post(base + "{serial_no}/start_charging",
         api_route(Style::Ev, [this, charger](net::ServerRequest& req, const std::string& user) {
           return in_system(Style::Ev, req, user, [&](System& s) {
             if (!charger(s, req)) return bad_request("Invalid system_id or serial_no");
             auto body = object_body(req);
             if (!body) return bad_request("The body is not a JSON object");
             auto number = [&](const char* key, long lo, long hi,
                               long dflt) -> std::optional<long> {
               auto v = body->if_contains(key);
               if (!v) return dflt;
               std::string text = v->is_string()  ? std::string(v->as_string())
                                  : v->is_int64() ? std::to_string(v->as_int64())
                                                  : "x";
               if (text.empty() || text.size() > 9 ||
                   text.find_first_not_of("0123456789") != std::string::npos)
                 return std::nullopt;
               auto n = std::stol(text);
               if (n < lo || n > hi) return std::nullopt;
               return n;
             };
             auto connector = number("connectorId", 1, 2, 1);
             if (!connector) return bad_request("Connector Id must be greater than 0");
             auto level = number("chargingLevel", 0, 100, 100);
             if (!level) return bad_request("Charging level should be in the range [0-100]");
             s.ev_commands.push_back({epoch_s(clock_.now()), true, static_cast<int>(*level)});
             return accepted();
           });
         }));
  r.post(base + "{serial_no}/stop_charging",
         api_route(Style::Ev, [this, charger](net::ServerRequest& req, const std::string& user) {
           return in_system(Style::Ev, req, user, [&](System& s) {
             if (!charger(s, req)) return e4(400, "Bad request", "Invalid system_id or serial_no");
             s.ev_commands.push_back({epoch_s(clock_.now()), false, 0});
             return accepted();
           });
         }));
}

}  // namespace sb::enphase
