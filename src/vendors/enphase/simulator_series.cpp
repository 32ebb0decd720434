// The Enphase simulator's energy and telemetry: the five lifetime series, site and device
// telemetry per 15 minutes, the latest telemetry, and events and alarms of a window. Every figure
// comes from the system's 5-minute slots (simulator.cpp).
#include <date/tz.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <variant>

#include "net/json.hpp"
#include "vendors/enphase/simulator.hpp"
#include "vendors/enphase/simulator_detail.hpp"

namespace sb::enphase {

namespace json = boost::json;
using namespace std::chrono;
using namespace detail;

void Simulator::add_series_routes(net::Router& r) {
  // The five lifetime series: one value a local day from start_date (default and floor: the
  // operational day) to end_date (default yesterday; today counts what it has so far).
  struct Series {
    const char* path;
    bool quota;  // 429 with the quota fields (E2)
    std::vector<std::pair<const char*, double DayEnergy::*>> arrays;
  };
  const Series series[] = {{"energy_lifetime", true, {{"production", &DayEnergy::pv}}},
                           {"consumption_lifetime", false, {{"consumption", &DayEnergy::load}}},
                           {"battery_lifetime",
                            false,
                            {{"charge", &DayEnergy::charge}, {"discharge", &DayEnergy::discharge}}},
                           {"energy_import_lifetime", false, {{"import", &DayEnergy::import}}},
                           {"energy_export_lifetime", false, {{"export", &DayEnergy::export_}}}};
  for (const auto& sr : series) {
    r.get(std::string("/api/v4/systems/{system_id}/") + sr.path,
          api_route(sr.quota ? Style::Quota : Style::Plain, [this, sr](net::ServerRequest& req,
                                                                       const std::string& user) {
            return in_system(Style::Plain, req, user, [&](System& s) {
              auto now = clock_.now();
              auto today_energy = history_locked(s, now);
              LocalDays L{date::locate_zone(s.cfg.site.timezone)};
              auto first = L.day(from_ms(s.operational_at * 1000));
              auto today = L.day(now);
              auto date_param = [&](const char* key, date::local_days fallback)
                  -> std::variant<date::local_days, net::ServerResponse> {
                auto it = req.query.find(key);
                if (it == req.query.end() || it->second.empty()) return fallback;
                std::istringstream in(it->second);
                date::local_days d;
                in >> date::parse("%F", d);
                if (in.fail() || it->second.size() != 10)
                  return unprocessable("Invalid request because of '" + std::string(key) +
                                       " must be a date YYYY-MM-DD'");
                if (d > today) return unprocessable("Requested date is in the future");
                return d;
              };
              auto from = date_param("start_date", first);
              if (auto* e = std::get_if<net::ServerResponse>(&from)) return *e;
              auto to = date_param("end_date", today - date::days(1));
              if (auto* e = std::get_if<net::ServerResponse>(&to)) return *e;
              auto a = std::max(std::get<date::local_days>(from), first);
              auto b = std::get<date::local_days>(to);
              if (b < a) return unprocessable("Requested date range is invalid for this system");
              auto day_of = [&](date::local_days d) -> const DayEnergy& {
                auto i = (d - first).count();
                return i < static_cast<std::int64_t>(s.days.size())
                           ? s.days[static_cast<std::size_t>(i)]
                           : today_energy;
              };
              json::object o{{"system_id", s.cfg.id}, {"start_date", date::format("%F", a)}};
              for (const auto& [key, field] : sr.arrays) {
                json::array values;
                for (auto d = a; d <= b; d += date::days(1))
                  values.push_back(std::llround(day_of(d).*field));
                o[key] = std::move(values);
              }
              if (std::string_view(sr.path) == "energy_lifetime") {
                // A meter from the first full day on; the microinverters read a little higher.
                auto meter_start = first + date::days(1);
                o["meter_start_date"] = date::format("%F", meter_start);
                if (req.query.contains("production") && req.query.at("production") == "all") {
                  json::array micro, meter;
                  for (auto d = a; d <= b; d += date::days(1)) {
                    micro.push_back(std::llround(day_of(d).pv * 1.003));
                    meter.push_back(d >= meter_start ? std::llround(day_of(d).pv) : 0);
                  }
                  o["micro_production"] = std::move(micro);
                  o["meter_production"] = std::move(meter);
                }
              }
              o["meta"] = json::object{{"status", s.cfg.status},
                                       {"last_report_at", last_report()},
                                       {"last_energy_at", last_report()},
                                       {"operational_at", s.operational_at}};
              return ok(o);
            });
          }));
  }

  auto window = [this](net::ServerRequest& req, const System& s) { return this->window(req, s); };
  auto intervals = [this](System& s, const Window& w, Millis length) {
    return this->intervals(s, w, length);
  };
  auto envelope = [this](const System& s, const Window& w, int devices) {
    return this->envelope(s, w, devices);
  };
  auto meta = [this](const System& s) { return this->meta(s); };
  using Telemetry = std::function<json::object(System&, const Window&)>;
  auto telemetry = [&](const char* path, Telemetry body) {
    r.get(std::string("/api/v4/systems/{system_id}/telemetry/") + path,
          api_route(Style::Quota,
                    [this, window, body](net::ServerRequest& req, const std::string& user) {
                      return in_system(Style::Plain, req, user, [&](System& s) {
                        auto w = window(req, s);
                        if (auto* e = std::get_if<net::ServerResponse>(&w)) return *e;
                        return ok(body(s, std::get<Window>(w)));
                      });
                    }));
  };
  telemetry("production_micro", [intervals, envelope, meta](System& s, const Window& w) {
    auto o = envelope(s, w, s.cfg.micros);
    json::array list;
    for (const auto& [end, x] : intervals(s, w, minutes(5)))
      list.push_back(json::object{{"end_at", epoch_s(end)},
                                  {"devices_reporting", s.cfg.micros},
                                  {"powr", std::lround(x.pv * 12)},
                                  {"enwh", std::lround(x.pv)}});
    o["intervals"] = std::move(list);
    o["meta"] = meta(s);
    return o;
  });
  telemetry("production_meter", [intervals, envelope](System& s, const Window& w) {
    auto o = envelope(s, w, 1);
    json::array list;
    for (const auto& [end, x] : intervals(s, w, minutes(15)))
      list.push_back(json::object{
          {"end_at", epoch_s(end)}, {"devices_reporting", 1}, {"wh_del", std::lround(x.pv)}});
    o["intervals"] = std::move(list);
    return o;
  });
  telemetry("consumption_meter", [intervals, envelope, meta](System& s, const Window& w) {
    auto o = envelope(s, w, 1);
    json::array list;
    for (const auto& [end, x] : intervals(s, w, minutes(15)))
      list.push_back(json::object{
          {"end_at", epoch_s(end)}, {"devices_reporting", 1}, {"enwh", std::lround(x.load)}});
    o["intervals"] = std::move(list);
    o["meta"] = meta(s);
    return o;
  });
  telemetry("battery", [intervals, envelope](System& s, const Window& w) {
    int n = s.cfg.encharges;
    auto o = envelope(s, w, n);
    json::array list;
    double cap = s.cfg.site.battery.capacity_wh;
    double soc = 0;
    if (n > 0)
      for (const auto& [end, x] : intervals(s, w, minutes(15))) {
        soc = cap > 0 ? x.stored_end / cap * 100 : 0;
        list.push_back(json::object{
            {"end_at", epoch_s(end)},
            {"charge", json::object{{"enwh", std::lround(x.charge)}, {"devices_reporting", n}}},
            {"discharge",
             json::object{{"enwh", std::lround(x.discharge)}, {"devices_reporting", n}}},
            {"soc", json::object{{"percent", std::lround(soc)}, {"devices_reporting", n}}}});
      }
    o["intervals"] = std::move(list);
    o["last_reported_aggregate_soc"] = std::to_string(std::lround(soc)) + "%";
    return o;
  });

  // Grid import and export per 15 minutes: an array of one group (the net meter's channel);
  // total_devices is always 0 (enphase.md §5.32). The 429 is the plain one.
  for (auto [path, import] :
       {std::pair{"energy_import_telemetry", true}, {"energy_export_telemetry", false}}) {
    r.get(std::string("/api/v4/systems/{system_id}/") + path,
          api_route(Style::Plain, [this, window, intervals, envelope, meta, import](
                                      net::ServerRequest& req, const std::string& user) {
            return in_system(Style::Plain, req, user, [&](System& s) {
              auto w = window(req, s);
              if (auto* e = std::get_if<net::ServerResponse>(&w)) return *e;
              const auto& win = std::get<Window>(w);
              auto o = envelope(s, win, 0);
              json::array group;
              for (const auto& [end, x] : intervals(s, win, minutes(15)))
                group.push_back(json::object{{"end_at", epoch_s(end)},
                                             {import ? "wh_imported" : "wh_exported",
                                              std::lround(import ? x.import : x.export_)}});
              json::array list;
              if (!group.empty()) list.push_back(std::move(group));
              o["intervals"] = std::move(list);
              o["meta"] = meta(s);
              return ok(o);
            });
          }));
  }

  // The last 5-minute slot's power of each meter channel and battery (channels 2 and 3 of a
  // single-phase site never report: null, as the document shows).
  r.get("/api/v4/systems/{system_id}/latest_telemetry",
        api_route(Style::Plain, [this](net::ServerRequest& req, const std::string& user) {
          return in_system(Style::Plain, req, user, [&](System& s) {
            auto now = clock_.now();
            auto end = from_ms(to_ms(now) / 300'000 * 300'000);
            auto last = slots_between(s, end - minutes(5), end);
            DayEnergy x = last.empty() ? DayEnergy{} : last.back().second;
            auto at = epoch_s(end);
            auto base = s.cfg.id % 1000 * 100;
            json::array meters;
            for (auto [n, name, wh] :
                 {std::tuple{1, "production", x.pv}, {2, "consumption", x.load}}) {
              for (int ch = 1; ch <= 3; ++ch)
                meters.push_back(json::object{
                    {"id", 1'059'640'300 + base + n},
                    {"name", name},
                    {"channel", ch},
                    {"last_report_at", ch == 1 ? json::value(at) : json::value(nullptr)},
                    {"power", ch == 1 ? json::value(std::lround(wh * 12)) : json::value(nullptr)}});
            }
            json::object devices{{"meters", std::move(meters)}};
            if (s.cfg.encharges > 0) {
              json::array enc;
              double w = (x.discharge - x.charge) * 12 / s.cfg.encharges;
              for (int i = 0; i < s.cfg.encharges; ++i)
                enc.push_back(json::object{{"id", 1'059'640'200 + base + i},
                                           {"name", "IQ Battery " + encharge_serial(s.cfg.id, i)},
                                           {"last_report_at", at},
                                           {"power", std::lround(w)},
                                           {"operational_mode", w > 1    ? "Discharging"
                                                                : w < -1 ? "Charging"
                                                                         : "Idle"}});
              devices["encharges"] = std::move(enc);
            }
            return ok(json::object{
                {"system_id", s.cfg.id}, {"items", "devices"}, {"devices", std::move(devices)}});
          });
        }));

  // Events and alarms of a window: start_time required and at most 9 months old, end_time
  // default min(start + 1 day, now), at most a week.
  auto event_window = [this](net::ServerRequest& req)
      -> std::variant<std::pair<std::int64_t, std::int64_t>, net::ServerResponse> {
    auto now = epoch_s(clock_.now());
    auto start = int_param(req, "start_time", 0, 99'999'999'999);
    auto end = int_param(req, "end_time", 0, 99'999'999'999);
    for (const auto* e : {&start, &end})
      if (!e->error.empty()) return unprocessable("Invalid request because of '" + e->error + "'");
    if (!start.value) return unprocessable("start_time is required");
    if (*start.value < now - 9 * 30 * 86'400)
      return unprocessable("start_time can not be older than 9 months");
    auto e = end.value.value_or(std::min(*start.value + 86'400, now));
    if (e < *start.value) return unprocessable("end_time must be after start_time");
    if (e - *start.value > 7 * 86'400)
      return unprocessable("The requested time range can not be more than a week");
    return std::make_pair(*start.value, e);
  };
  r.get("/api/v4/systems/{system_id}/events",
        api_route(Style::Plain,
                  [this, event_window](net::ServerRequest& req, const std::string& user) {
                    return in_system(Style::Plain, req, user, [&](System& s) {
                      auto w = event_window(req);
                      if (auto* e = std::get_if<net::ServerResponse>(&w)) return *e;
                      auto [from, to] = std::get<std::pair<std::int64_t, std::int64_t>>(w);
                      auto now = epoch_s(clock_.now());
                      json::array list;
                      for (const auto& ev : events_) {
                        if (ev.system != s.cfg.id || ev.start >= to || ev.start > now) continue;
                        bool ended = ev.end && *ev.end <= now;
                        if (ev.start < from && (ended && *ev.end < from)) continue;
                        const auto* t = event_type(ev.type);
                        json::object o{{"status", !t || !t->stateful ? "Info"
                                                  : ended            ? "Closed"
                                                                     : "Open"},
                                       {"event_type_id", ev.type},
                                       {"event_start_time", ev.start},
                                       {"serial_number", ev.serial}};
                        if (ended) o["event_end_time"] = *ev.end;
                        list.push_back(std::move(o));
                      }
                      return ok(json::object{{"system_id", s.cfg.id}, {"events", std::move(list)}});
                    });
                  }));
  r.get("/api/v4/systems/{system_id}/alarms",
        api_route(Style::Plain, [this, event_window](net::ServerRequest& req,
                                                     const std::string& user) {
          return in_system(Style::Plain, req, user, [&](System& s) {
            auto w = event_window(req);
            if (auto* e = std::get_if<net::ServerResponse>(&w)) return *e;
            auto [from, to] = std::get<std::pair<std::int64_t, std::int64_t>>(w);
            bool want_cleared = false;
            if (auto it = req.query.find("cleared"); it != req.query.end()) {
              if (it->second != "true" && it->second != "false")
                return unprocessable("Invalid request because of 'cleared must be true or false'");
              want_cleared = it->second == "true";
            }
            auto now = epoch_s(clock_.now());
            json::array list;
            std::size_t n = 0;
            for (const auto& ev : events_) {
              ++n;
              const auto* t = event_type(ev.type);
              // A stateful event open for over an hour escalates to an alarm of its own.
              if (ev.system != s.cfg.id || !t || !t->stateful || ev.start + 3'600 > now) continue;
              if (ev.end && *ev.end - ev.start <= 3'600) continue;
              auto alarm_start = ev.start + 3'600;
              if (alarm_start >= to) continue;
              bool cleared = ev.end && *ev.end <= now;
              if (cleared != want_cleared || (cleared && *ev.end < from)) continue;
              json::object e{{"serial_number", ev.serial}, {"start_date", ev.start}};
              if (cleared) e["end_date"] = *ev.end;
              list.push_back(json::object{
                  {"id", std::to_string(1'082'700'000 + s.cfg.id % 1000 * 1000 + n)},
                  {"event_type_id", ev.type},
                  {"cleared", cleared},
                  {"alarm_start_time", alarm_start},
                  {"alarm_end_time", cleared ? json::value(*ev.end) : json::value(nullptr)},
                  {"severity", t->severity},
                  {"events", json::array{std::move(e)}}});
            }
            return ok(json::object{{"system_id", s.cfg.id}, {"alarms", std::move(list)}});
          });
        }));
}

}  // namespace sb::enphase
