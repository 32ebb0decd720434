#include "vendors/kostal/simulator.hpp"

#include <date/tz.h>

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "net/json.hpp"
#include "vendors/kostal/simulator_detail.hpp"

namespace sb::kostal {

using namespace detail;  // json, std::chrono and the reply helpers

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

}  // namespace sb::kostal
