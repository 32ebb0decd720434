// The FoxESS simulator's history and reports (5-minute history, day, month and year reports).
#include <algorithm>
#include <cmath>

#include "vendors/foxess/simulator_detail.hpp"

namespace sb::foxess {

using namespace detail;

void Simulator::history_routes(Routes& api) {
  // --- History and reports ---
  api.post_query(
      "/op/v0/device/history/query", [this](net::ServerRequest&, const json::object& body) {
        std::string why;
        auto wanted = wanted_variables(body, why);
        if (!wanted) return error(kBodyInvalid, "request body parameters invalid: " + why);
        std::lock_guard lock(mutex_);
        Reply err;
        auto* inv = device_locked(string_field(body, "sn").value_or(""), err);
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
  api.post_query("/op/v0/device/report/query", [this](net::ServerRequest&,
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
    auto* inv = device_locked(string_field(body, "sn").value_or(""), err);
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
}

}  // namespace sb::foxess
