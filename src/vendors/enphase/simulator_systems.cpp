// The Enphase simulator's system routes: the systems list, search, look-ups by envoy or
// reference, the event types, a system and its summary (enphase.md §5.1-5.4, 5.6). Figures come
// from the system's 5-minute slots (simulator.cpp).
#include <date/tz.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <cmath>
#include <sstream>
#include <variant>

#include "net/json.hpp"
#include "vendors/enphase/simulator.hpp"
#include "vendors/enphase/simulator_detail.hpp"

namespace sb::enphase {

namespace json = boost::json;
using namespace std::chrono;
using namespace detail;

void Simulator::add_system_routes(net::Router& r) {
  // A listSystems row; `search` leaves out address.city as searchSystems' schema does.
  auto system_json = [this](const System& s, bool search) {
    const auto& c = s.cfg;
    json::object address{
        {"state", c.state}, {"country", c.country}, {"postal_code", c.postal_code}};
    if (!search) address["city"] = c.city;
    json::object o{
        {"system_id", c.id},
        {"name", c.name},
        {"public_name", "Residential System"},
        {"timezone", c.site.timezone},
        {"address", std::move(address)},
        {"connection_type", c.connection_type},
        {"energy_lifetime", -1},
        {"energy_today", -1},
        {"system_size", -1},
        {"status", c.status},
        {"last_report_at", last_report()},
        {"last_energy_at", last_report()},
        {"operational_at", s.operational_at},
        {"attachment_type", c.attachment_type},
        {"interconnect_date", format_iso8601(from_ms(s.operational_at * 1000)).substr(0, 10)}};
    if (!c.reference.empty()) {
      o["reference"] = c.reference;
      o["other_references"] = json::array{json::value(c.reference)};
    }
    return o;
  };
  // page / size / sort_by of the list calls; nullopt with the 422 when one is wrong.
  struct Page {
    std::int64_t page = 1, size = 10;
    bool descending = false;
  };
  auto paging = [](const net::ServerRequest& req, std::int64_t max_size,
                   const std::string& sort) -> std::variant<Page, net::ServerResponse> {
    Page p;
    auto page = int_param(req, "page", 1, 1'000'000);
    auto size = int_param(req, "size", 1, max_size);
    for (const auto* e : {&page, &size})
      if (!e->error.empty()) return unprocessable("Invalid request because of '" + e->error + "'");
    p.page = page.value.value_or(1);
    p.size = size.value.value_or(10);
    if (!sort.empty() && sort != "id" && sort != "-id")
      return unprocessable(
          "Invalid request because of 'The sorting parameter is not supported. Please use id for "
          "sorting by Asc or -id for sorting by Desc'");
    p.descending = sort == "-id";
    return p;
  };
  auto page_of = [this, system_json](std::vector<const System*> rows, Page p, bool search) {
    std::sort(rows.begin(), rows.end(), [&](const System* a, const System* b) {
      return p.descending ? a->cfg.id > b->cfg.id : a->cfg.id < b->cfg.id;
    });
    json::array out;
    for (std::size_t i = static_cast<std::size_t>((p.page - 1) * p.size);
         i < rows.size() && out.size() < static_cast<std::size_t>(p.size); ++i) {
      rows[i]->site->advance_to(clock_.now());
      out.push_back(system_json(*rows[i], search));
    }
    return json::object{{"total", rows.size()}, {"current_page", p.page},
                        {"size", p.size},       {"count", out.size()},
                        {"items", "systems"},   {"systems", std::move(out)}};
  };

  r.get("/api/v4/systems",
        api_route(Style::Plain, [this, paging, page_of](net::ServerRequest& req,
                                                        const std::string& user) {
          auto p = paging(req, 100, req.query.contains("sort_by") ? req.query["sort_by"] : "");
          if (auto* err = std::get_if<net::ServerResponse>(&p)) return *err;
          std::vector<const System*> rows;
          for (const auto& s : systems_)
            if (s.cfg.owner == user) rows.push_back(&s);
          return ok(page_of(rows, std::get<Page>(p), false));
        }));

  r.post("/api/v4/systems/search",
         api_route(Style::Plain, [this, paging, page_of](net::ServerRequest& req,
                                                         const std::string& user) {
           json::value body;
           try {
             body = req.body.empty() ? json::value(json::object{}) : json::parse(req.body);
           } catch (const std::exception&) {
             return unprocessable("Invalid request because of 'the body is not JSON'");
           }
           if (!body.is_object()) return unprocessable("system is missing at Json body location");
           const auto& o = body.as_object();
           for (const auto& [k, v] : o)
             if (k != "system" && k != "sort_by")
               return unprocessable("Invalid request because of '" + std::string(k) +
                                    " is not a valid parameter'");
           auto sys = o.if_contains("system");
           if (!sys || !sys->is_object())
             return unprocessable("system is missing at Json body location");
           std::string sort;
           if (auto sb = o.if_contains("sort_by"); sb && sb->is_string()) sort = sb->as_string();
           auto p = paging(req, 1000, sort);
           if (auto* err = std::get_if<net::ServerResponse>(&p)) return *err;
           static const std::vector<std::string> statuses = {
               "normal",  "comm",     "micro",         "power",
               "meter",   "battery",  "storage_idle",  "meter_issue",
               "enpower", "encharge", "enpower_issue", "encharge_issue"};
           const auto& f = sys->as_object();
           for (const auto& [k, v] : f) {
             std::string key(k);
             bool known = key == "ids" || key == "name" || key == "reference" ||
                          key == "other_reference" || key == "statuses";
             if (!known)
               return unprocessable("Invalid request because of 'system." + key +
                                    " is not a valid parameter'");
             if ((key == "ids" || key == "statuses") && !v.is_array())
               return unprocessable("Invalid request because of 'system." + key +
                                    " must be an array'");
             if (key != "ids" && key != "statuses" && !v.is_string())
               return unprocessable("Invalid request because of 'system." + key +
                                    " must be a string'");
           }
           if (auto st = f.if_contains("statuses"))
             for (const auto& s : st->as_array())
               if (!s.is_string() || std::find(statuses.begin(), statuses.end(),
                                               std::string(s.as_string())) == statuses.end())
                 return unprocessable(
                     "Invalid request because of 'system.statuses does not have a "
                     "valid value'");
           auto text = [&](const char* k) {
             auto v = f.if_contains(k);
             return v ? std::string(v->as_string()) : std::string();
           };
           std::vector<const System*> rows;
           for (const auto& s : systems_) {
             if (s.cfg.owner != user) continue;
             if (auto ids = f.if_contains("ids");
                 ids && !ids->as_array().empty() &&
                 std::none_of(ids->as_array().begin(), ids->as_array().end(),
                              [&](const json::value& id) {
                                return id.is_int64() && id.as_int64() == s.cfg.id;
                              }))
               continue;
             // Empty filter values are ignored (enphase.md §5.2).
             if (auto n = text("name"); !n.empty() && s.cfg.name.find(n) == std::string::npos)
               continue;
             if (auto ref = text("reference"); !ref.empty() && s.cfg.reference != ref) continue;
             if (auto other = text("other_reference"); !other.empty() && s.cfg.reference != other)
               continue;
             if (auto st = f.if_contains("statuses");
                 st && !st->as_array().empty() &&
                 std::none_of(st->as_array().begin(), st->as_array().end(),
                              [&](const json::value& v) { return v.as_string() == s.cfg.status; }))
               continue;
             rows.push_back(&s);
           }
           return ok(page_of(rows, std::get<Page>(p), true));
         }));

  r.get("/api/v4/systems/retrieve_system_id",
        api_route(Style::Quota, [this](net::ServerRequest& req, const std::string& user) {
          auto it = req.query.find("serial_num");
          if (it == req.query.end() || it->second.empty())
            return unprocessable("Provide envoy serial number");
          for (const auto& s : systems_)
            if (s.cfg.envoy_serial == it->second && s.cfg.owner == user)
              return ok(json::object{{"system_id", s.cfg.id}});
          return e1(404, "Not Found", "Envoy not found with this serial number");
        }));

  r.get("/api/v4/systems/inverters_summary_by_envoy_or_site",
        api_route(Style::Quota, [this, paging](net::ServerRequest& req, const std::string& user) {
          auto site = int_param(req, "site_id", 1, 999'999'999'999);
          auto envoy = int_param(req, "envoy_serial_number", 1, 999'999'999'999'999);
          for (const auto* e : {&site, &envoy})
            if (!e->error.empty())
              return unprocessable("Invalid request because of '" + e->error + "'");
          if (!site.value && !envoy.value)
            return unprocessable("Envoy serial number or Site id mandatory");
          auto p = paging(req, 100, "");
          if (auto* err = std::get_if<net::ServerResponse>(&p)) return *err;
          auto pg = std::get<Page>(p);
          System* sys = nullptr;
          for (auto& s : systems_)
            if ((site.value && s.cfg.id == *site.value) ||
                (envoy.value && s.cfg.envoy_serial == std::to_string(*envoy.value)))
              sys = &s;
          if (!sys || sys->cfg.owner != user) return ok(json::array{});
          sys->site->advance_to(clock_.now());
          const auto& st = sys->site->state();
          const auto& c = sys->site->counters();
          json::array micros;
          int n = sys->cfg.micros;
          for (int i = static_cast<int>((pg.page - 1) * pg.size);
               i < n && micros.size() < static_cast<std::size_t>(pg.size); ++i) {
            double share = st.strings.size() > static_cast<std::size_t>(i) ? st.strings[i].power_w
                                                                           : st.pv_w / n;
            micros.push_back(json::object{
                {"id", 1'059'689'000 + sys->cfg.id % 1000 * 100 + i},
                {"serial_number", micro_serial(sys->cfg.id, i)},
                {"model", "IQ8A"},
                {"part_number", "800-01333-r01"},
                {"sku", "IQ8A-72-2-US"},
                {"status", "normal"},
                {"power_produced",
                 json::object{{"value", std::lround(share)}, {"units", "W"}, {"precision", 0}}},
                {"proc_load", "521-00005-r00-v02.32.01"},
                {"param_table", "549-00018-r00-v02.32.01"},
                {"envoy_serial_number", sys->cfg.envoy_serial},
                {"energy",
                 json::object{
                     {"value", std::llround(c.pv_wh / n)}, {"units", "Wh"}, {"precision", 0}}},
                {"grid_profile", "57227c50e4d7973ae602c4e6"},
                {"last_report_date", epoch_s(clock_.now()) / 300 * 300}});
          }
          return ok(json::array{
              json::object{{"signal_strength", 5}, {"micro_inverters", std::move(micros)}}});
        }));

  // Before {system_id}: the router takes the first pattern that matches.
  r.get("/api/v4/systems/event_types",
        api_route(Style::Plain, [](net::ServerRequest& req, const std::string&) {
          auto one = int_param(req, "event_type_id", 0, 999'999'999);
          if (!one.error.empty())
            return unprocessable("Invalid request because of '" + one.error + "'");
          json::array list;
          for (const auto& t : kEventTypes)
            if (!one.value || *one.value == t.id)
              list.push_back(json::object{{"event_type_id", t.id},
                                          {"event_type_key", t.key},
                                          {"stateful", t.stateful},
                                          {"event_name", t.name},
                                          {"event_description", t.description},
                                          {"recommended_action", t.action}});
          if (one.value && list.empty())
            return e1(404, "Not Found",
                      "Event type not found for {:id=>\"" + std::to_string(*one.value) + "\"}");
          return ok(json::object{{"event_types", std::move(list)}});
        }));

  r.get("/api/v4/systems/{system_id}",
        api_route(Style::Plain,
                  [this, system_json](net::ServerRequest& req, const std::string& user) {
                    return in_system(Style::Plain, req, user,
                                     [&](System& s) { return ok(system_json(s, false)); });
                  }));

  r.get("/api/v4/systems/{system_id}/summary",
        api_route(Style::Quota, [this](net::ServerRequest& req, const std::string& user) {
          return in_system(Style::Plain, req, user, [&](System& s) {
            const auto& st = s.site->state();
            const auto& b = s.site->config().battery;
            LocalDays L{date::locate_zone(s.cfg.site.timezone)};
            // Lifetime and today from the same history the lifetime series give.
            double today = history_locked(s, clock_.now()).pv;
            double lifetime = today;
            for (const auto& d : s.days) lifetime += d.pv;
            double size = 0;
            for (const auto& str : s.cfg.site.strings) size += str.peak_w;
            bool battery = s.cfg.encharges > 0;
            return ok(
                json::object{{"system_id", s.cfg.id},
                             {"current_power", std::lround(st.pv_w)},
                             {"energy_lifetime", std::llround(lifetime)},
                             {"energy_today", std::llround(today)},
                             {"last_interval_end_at", last_report()},
                             {"last_report_at", last_report()},
                             {"modules", s.cfg.micros},
                             {"operational_at", s.operational_at},
                             {"size_w", std::lround(size)},
                             {"nmi", ""},
                             {"source", "meter"},
                             {"status", s.cfg.status},
                             {"summary_date", date::format("%F", L.day(clock_.now()))},
                             {"battery_charge_w", battery ? std::lround(b.max_charge_w) : 0},
                             {"battery_discharge_w", battery ? std::lround(b.max_discharge_w) : 0},
                             {"battery_capacity_wh", battery ? std::lround(b.capacity_wh) : 0}});
          });
        }));

  r.get(
      "/api/v4/systems/{system_id}/devices",
      api_route(Style::Plain, [this](net::ServerRequest& req, const std::string& user) {
        return in_system(Style::Plain, req, user, [&](System& s) {
          const auto& c = s.cfg;
          auto base = c.id % 1000 * 100;
          auto device = [&](std::int64_t id, std::string name, std::string serial, const char* part,
                            json::value sku, const char* model, const char* product) {
            json::object o{{"id", id},
                           {"last_report_at", last_report()},
                           {"name", std::move(name)},
                           {"serial_number", std::move(serial)},
                           {"part_number", part},
                           {"sku", std::move(sku)},
                           {"model", model},
                           {"status", "normal"},
                           {"active", true}};
            if (product) o["product_name"] = product;
            return o;
          };
          json::object devices;
          json::array micros, meters, gateways, encharges, enpowers, evs;
          for (int i = 0; i < c.micros; ++i) {
            auto sn = micro_serial(c.id, i);
            micros.push_back(device(1'059'689'000 + base + i, "Microinverter " + sn, sn,
                                    "800-01333-r01", "IQ8A-72-2-US", "IQ8A", "IQ8A"));
          }
          for (auto [n, kind] : {std::pair{1, "Production"}, {2, "Net"}}) {
            auto m = device(1'059'640'300 + base + n, n == 1 ? "production" : "consumption",
                            c.envoy_serial + "EIM" + std::to_string(n), "800-00655-r08", nullptr,
                            "Envoy S", "RGM");
            m["state"] = "enabled";
            m["config_type"] = kind;
            meters.push_back(std::move(m));
          }
          auto g = device(1'059'563'000 + base, "Gateway " + c.envoy_serial, c.envoy_serial,
                          "800-00655-r08", "ENV-IQ-AM1-240", "Envoy-S-Standard-NA",
                          "Envoy-S-Metered-EU");
          g["emu_sw_version"] = "D8.2.4264";
          gateways.push_back(std::move(g));
          devices["micros"] = std::move(micros);
          devices["meters"] = std::move(meters);
          devices["gateways"] = std::move(gateways);
          std::size_t total = c.micros + 3;
          for (int i = 0; i < c.encharges; ++i) {
            auto sn = encharge_serial(c.id, i);
            encharges.push_back(device(1'059'640'200 + base + i, "IQ Battery " + sn, sn,
                                       "800-00562-r01", "B05-T02-ROW00-1-2", "", "IQ Battery 5P"));
          }
          if (c.encharges > 0) {
            auto sn = std::to_string(121'245'170'000 + base);
            enpowers.push_back(device(1'059'640'100 + base, "IQ System Controller " + sn, sn,
                                      "800-01135-r02", "EP200G101-M240US00", "",
                                      "IQ System Controller"));
            devices["encharges"] = std::move(encharges);
            devices["enpowers"] = std::move(enpowers);
            total += c.encharges + 1;
          }
          if (c.acbs > 0) {
            json::array acbs;
            for (int i = 0; i < c.acbs; ++i) {
              auto sn = acb_serial(c.id, i);
              acbs.push_back(device(1'059'640'400 + base + i, "AC Battery " + sn, sn,
                                    "800-00930-r01", "B1200-LI-US-1", "ACB1200", "AC Battery"));
            }
            devices["acbs"] = std::move(acbs);
            total += c.acbs;
          }
          if (c.ev_charger) {
            auto sn = ev_serial(c.id);
            auto ev = device(202'313'029'000 + base, "IQ EV Charger " + sn, sn, "861-02006 09",
                             "IQ-EVSE-NA-1060-0100-0100", "IQ-EVSE-60R", nullptr);
            ev["firmware"] = "v0.04.17";
            evs.push_back(std::move(ev));
            devices["ev_chargers"] = std::move(evs);
            total += 1;
          }
          return ok(json::object{{"system_id", c.id},
                                 {"total_devices", total},
                                 {"items", "devices"},
                                 {"devices", std::move(devices)}});
        });
      }));
}

}  // namespace sb::enphase
