// The Solar-Log simulator's data calls: components of a plant for a date, channel values for a
// day, month, year, the lifetime and a date range, per-component values, KPIs and component
// events. docs/vendors/solarlog.md marks each call documented (by the public client) or
// inferred.
#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>

#include "net/json.hpp"
#include "vendors/solarlog/channels.hpp"
#include "vendors/solarlog/simulator.hpp"

namespace sb::solarlog {

namespace json = boost::json;
using namespace std::chrono;

namespace {

constexpr int kMaxRangeDays = 31;   // channels and cross-epoch calls (decision)
constexpr int kMaxEventDays = 366;  // events and KPIs (decision)

// A list parameter as clients send it: repeated (`a=1&a=2`), with brackets (`a[]=1`, axios's
// default) or comma-separated (`a=1,2`).
std::vector<std::string> list_param(const net::ServerRequest& req, const std::string& name) {
  std::vector<std::string> out;
  for (const auto& [k, v] : req.query_list) {
    if (k != name && k != name + "[]") continue;
    std::size_t start = 0;
    while (start <= v.size()) {
      auto end = v.find(',', start);
      if (end == std::string::npos) end = v.size();
      auto item = v.substr(start, end - start);
      while (!item.empty() && item.front() == ' ') item.erase(0, 1);
      while (!item.empty() && item.back() == ' ') item.pop_back();
      if (!item.empty()) out.push_back(item);
      start = end + 1;
    }
  }
  return out;
}

// "YYYY-MM-DD" as a day number; nullopt for anything else.
std::optional<std::int64_t> parse_day(std::string_view s) {
  int y = 0, m = 0, d = 0;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  auto num = [&](std::size_t at, std::size_t n, int& out) {
    auto r = std::from_chars(s.data() + at, s.data() + at + n, out);
    return r.ec == std::errc{} && r.ptr == s.data() + at + n;
  };
  if (!num(0, 4, y) || !num(5, 2, m) || !num(8, 2, d)) return std::nullopt;
  return day_number(y, m, d);
}

std::string iso_with_offset(TimePoint t) {
  // "2026-06-15T10:05:00.000Z" -> "2026-06-15T10:05:00+00:00", as the documented objects are.
  return format_iso8601(t).substr(0, 19) + "+00:00";
}

std::optional<int> parse_int(const std::string& s, int lo, int hi) {
  int v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc{} || r.ptr != s.data() + s.size() || v < lo || v > hi) return std::nullopt;
  return v;
}

}  // namespace

void Simulator::add_data_routes(net::Router& r,
                                const std::function<net::Handler(ApiHandler)>& api) {
  auto ok = [](const json::value& v) { return net::ServerResponse::json(200, net::to_json(v)); };
  auto bad = [this](const net::ServerRequest& req, std::string message) {
    return api_error(400, "Bad Request", std::move(message), req.path);
  };
  // Component values and KPIs are the Advanced package's (the feature matrix).
  auto advanced = [this](const net::ServerRequest& req, const SimClient& c,
                         const char* what) -> std::optional<net::ServerResponse> {
    if (is_advanced(c.package)) return std::nullopt;
    return api_error(403, "Forbidden",
                     std::string(what) + " are part of the Advanced package; client " +
                         c.client_id + " has the " + std::string(to_string(c.package)) + " package",
                     req.path);
  };
  // dateFrom and dateTo, inclusive, at most `max_days` apart.
  struct Range {
    std::int64_t from = 0, to = 0;
  };
  auto range = [](const net::ServerRequest& req, int max_days,
                  std::string& error) -> std::optional<Range> {
    auto f = req.query.find("dateFrom"), t = req.query.find("dateTo");
    if (f == req.query.end() || t == req.query.end()) {
      error = "dateFrom and dateTo are required (YYYY-MM-DD)";
      return std::nullopt;
    }
    auto from = parse_day(f->second), to = parse_day(t->second);
    if (!from || !to) {
      error = "Invalid date '" + (!from ? f->second : t->second) + "': expected YYYY-MM-DD";
      return std::nullopt;
    }
    if (*to < *from) {
      error = "dateTo " + t->second + " is before dateFrom " + f->second;
      return std::nullopt;
    }
    if (*to - *from + 1 > max_days) {
      error = "The range " + f->second + " to " + t->second + " has " +
              std::to_string(*to - *from + 1) + " days; at most " + std::to_string(max_days) +
              " are allowed";
      return std::nullopt;
    }
    return Range{*from, *to};
  };
  // The components a call names by cross-epoch id, of the given type ("" any).
  auto components = [](const net::ServerRequest& req, PlantModel& m, const std::string& param,
                       const std::string& type,
                       std::string& error) -> std::vector<const Component*> {
    std::vector<const Component*> out;
    for (const auto& id : list_param(req, param)) {
      std::int64_t n = 0;
      auto res = std::from_chars(id.data(), id.data() + id.size(), n);
      const Component* c =
          res.ec == std::errc{} && res.ptr == id.data() + id.size() ? m.component(n) : nullptr;
      if (!c) {
        error = param + ": the plant has no component " + id;
        return {};
      }
      if (!type.empty() && c->type != type) {
        error = param + ": component " + id + " is a " + c->type + ", not a " + type;
        return {};
      }
      out.push_back(c);
    }
    return out;
  };
  // The values of the named channels for each period, of the plant or each component.
  auto values = [this, ok, bad](const net::ServerRequest& req, PlantModel& m,
                                const std::vector<const Component*>& comps,
                                const std::vector<Period>& periods) {
    auto names = list_param(req, "channelNames");
    if (names.empty())
      return bad(req, "channelNames is required; one or more of " + channel_names());
    std::vector<const Channel*> channels;
    for (const auto& n : names) {
      auto* ch = find_channel(n);
      if (!ch) return bad(req, "Unknown channel '" + n + "'; known: " + channel_names());
      channels.push_back(ch);
    }
    std::vector<const Component*> targets = comps;
    if (targets.empty()) targets.push_back(nullptr);
    // With several components, each gives the channels it carries; a channel none of them
    // carries (or one without coarse values) is refused with the reason.
    std::vector<std::vector<const Component*>> carriers(channels.size());
    for (std::size_t i = 0; i < channels.size(); ++i) {
      std::string why;
      for (auto* c : targets) {
        auto no = refusal(m, *channels[i], c, periods.front());
        if (no.empty())
          carriers[i].push_back(c);
        else if (why.empty())
          why = no;
      }
      if (carriers[i].empty()) return bad(req, why);
    }
    json::array out;
    auto now = clock_.now();
    for (const auto& p : periods)
      for (auto* c : targets)
        for (std::size_t i = 0; i < channels.size(); ++i)
          if (std::find(carriers[i].begin(), carriers[i].end(), c) != carriers[i].end())
            out.push_back(series(m, *channels[i], c, p, now));
    return ok(out);
  };
  const std::string base = "/api/v1/{portal}/";

  // Components of a plant for a date (the public client's call): those installed by its end.
  r.get(base + "datasource/plant/{plantId}/components/{date}",
        api([this, ok, bad](net::ServerRequest& req, const SimClient& c) {
          return with_plant(req, c, [&](auto&, auto&, const SimPlant&, PlantModel& m) {
            auto day = parse_day(req.params["date"]);
            if (!day)
              return bad(req, "Invalid date '" + req.params["date"] + "': expected YYYY-MM-DD");
            json::array list;
            for (const auto& x : m.components()) {
              if (x.installed >= m.day_start(*day + 1)) continue;
              json::object o{{"id", x.id},
                             {"crossEpochId", x.cross_epoch_id},
                             {"name", x.name},
                             {"type", x.type},
                             {"class", x.cls},
                             {"manufacturer", x.manufacturer},
                             {"model", x.model},
                             {"serialNumber", x.serial},
                             {"ratedPower", std::lround(x.rated_w)},
                             {"installedAt", iso_with_offset(x.installed)}};
              if (x.parent) o["parentCrossEpochId"] = x.parent;
              if (x.type == "Meter") o["meterType"] = x.subtype;
              if (x.type == "Sensor") o["sensorType"] = x.subtype;
              list.push_back(std::move(o));
            }
            return ok(list);
          });
        }));

  // Component events (every package), by the day they started.
  r.get(base + "datasource/plant/{plantId}/events",
        api([this, ok, bad, range](net::ServerRequest& req, const SimClient& c) {
          return with_plant(req, c, [&](auto&, auto&, const SimPlant&, PlantModel& m) {
            std::string error;
            auto rg = range(req, kMaxEventDays, error);
            if (!rg) return bad(req, error);
            json::array list;
            for (const auto& e : m.events(rg->from, rg->to + 1, clock_.now())) {
              auto* comp = m.component(e.component);
              list.push_back(json::object{
                  {"id", e.id},
                  {"componentId", e.component},
                  {"componentName", comp ? comp->name : ""},
                  {"componentType", comp ? comp->type : ""},
                  {"severity", e.severity},
                  {"code", e.code},
                  {"message", e.message},
                  {"start", iso_with_offset(e.start)},
                  {"end", e.end ? json::value(iso_with_offset(*e.end)) : json::value(nullptr)}});
            }
            return ok(list);
          });
        }));

  // Channel values per period: the plant's (every package) or, with xComponentIds, each
  // component's (Advanced). The day call is inferred from the month call's path.
  auto period_call = [this, bad, values, advanced, components](
                         net::ServerRequest& req, const SimClient& c, Period::Kind kind) {
    return with_plant(req, c, [&](auto&, auto&, const SimPlant&, PlantModel& m) {
      Period p{kind};
      if (kind != Period::Lifetime) {
        auto y = parse_int(req.params["year"], 1990, 2200);
        if (!y) return bad(req, "Invalid year '" + req.params["year"] + "'");
        p.year = *y;
      }
      if (kind == Period::Month || kind == Period::Day) {
        auto mo = parse_int(req.params["month"], 1, 12);
        if (!mo) return bad(req, "Invalid month '" + req.params["month"] + "': expected 1 to 12");
        p.month = *mo;
      }
      if (kind == Period::Day) {
        auto dd = parse_int(req.params["day"], 1, 31);
        auto d = dd ? day_number(p.year, p.month, *dd) : std::nullopt;
        if (!d)
          return bad(req, "Invalid day '" + req.params["day"] + "' of " + std::to_string(p.year) +
                              "-" + std::to_string(p.month));
        p.day = *d;
      }
      // The package first: a Basic client learns that, not which ids are wrong.
      if (!list_param(req, "xComponentIds").empty())
        if (auto no = advanced(req, c, "Component values")) return *no;
      std::string error;
      auto comps = components(req, m, "xComponentIds", "", error);
      if (!error.empty()) return bad(req, error);
      return values(req, m, comps, {p});
    });
  };
  const std::string vis = base + "visualization/plant/{plantId}/";
  r.get(vis + "year/{year}/month/{month}/day/{day}",
        api([period_call](net::ServerRequest& req, const SimClient& c) {
          return period_call(req, c, Period::Day);
        }));
  r.get(vis + "year/{year}/month/{month}",
        api([period_call](net::ServerRequest& req, const SimClient& c) {
          return period_call(req, c, Period::Month);
        }));
  r.get(vis + "year/{year}", api([period_call](net::ServerRequest& req, const SimClient& c) {
          return period_call(req, c, Period::Year);
        }));
  r.get(vis + "lifetime", api([period_call](net::ServerRequest& req, const SimClient& c) {
          return period_call(req, c, Period::Lifetime);
        }));

  // A date range in 5-minute values: the plant's, or with mppTrackerIds each tracker's
  // (Advanced); cross-epoch/channels takes any components (Advanced), as the public client
  // asks for its inverters.
  auto range_call = [this, bad, values, advanced, components, range](
                        net::ServerRequest& req, const SimClient& c, bool cross_epoch) {
    return with_plant(req, c, [&](auto&, auto&, const SimPlant&, PlantModel& m) {
      if (cross_epoch || !list_param(req, "mppTrackerIds").empty())
        if (auto no = advanced(req, c, "Component values")) return *no;
      std::string error;
      auto comps = cross_epoch ? components(req, m, "xComponentIds", "", error)
                               : components(req, m, "mppTrackerIds", "MppTracker", error);
      if (!error.empty()) return bad(req, error);
      if (cross_epoch && comps.empty())
        return bad(req, "xComponentIds is required: the components' crossEpochId values");
      auto rg = range(req, kMaxRangeDays, error);
      if (!rg) return bad(req, error);
      std::vector<Period> periods;
      for (auto d = rg->from; d <= rg->to; ++d) periods.push_back({Period::Day, 0, 0, d});
      return values(req, m, comps, periods);
    });
  };
  r.get(vis + "channels", api([range_call](net::ServerRequest& req, const SimClient& c) {
          return range_call(req, c, false);
        }));
  r.get(vis + "cross-epoch/channels",
        api([range_call](net::ServerRequest& req, const SimClient& c) {
          return range_call(req, c, true);
        }));

  // Plant KPIs (Advanced) over a range of days.
  r.get(
      vis + "kpis",
      api([this, ok, bad, advanced, range](net::ServerRequest& req, const SimClient& c) {
        return with_plant(req, c, [&](auto&, auto&, const SimPlant& p, PlantModel& m) {
          if (auto no = advanced(req, c, "Plant KPIs")) return *no;
          std::string error;
          auto rg = range(req, kMaxEventDays, error);
          if (!rg) return bad(req, error);
          DayTotals sum;
          auto now = clock_.now();
          for (auto d = rg->from; d <= rg->to; ++d) sum.add(m.totals(d, now));
          double kwp = m.peak_w() / 1000;
          auto pct = [](double v) { return std::round(v * 10) / 10; };
          double yield = sum.prod / 1000 / kwp;       // kWh/kWp
          double reference = sum.irradiation / 1000;  // kWh/m² = kWh/kWp at STC
          return ok(json::object{
              {"plantId", p.id},
              {"dateFrom", day_string(rg->from)},
              {"dateTo", day_string(rg->to)},
              {"production", std::round(sum.prod)},
              {"consumption", std::round(sum.cons)},
              {"irradiation", std::round(sum.irradiation)},
              {"specificYield", std::round(yield * 1000) / 1000},
              {"performanceRatio",
               reference > 0 ? json::value(pct(100 * yield / reference)) : json::value(nullptr)},
              {"availability", sum.daylight_slots > 0
                                   ? json::value(pct(100.0 * (sum.daylight_slots - sum.down_slots) /
                                                     sum.daylight_slots))
                                   : json::value(nullptr)},
              {"autarky", sum.cons > 0 ? json::value(pct(100 * (1 - sum.import / sum.cons)))
                                       : json::value(nullptr)},
              {"selfConsumption", sum.prod > 0
                                      ? json::value(pct(100 * (1 - sum.export_ / sum.prod)))
                                      : json::value(nullptr)}});
        });
      }));
}

}  // namespace sb::solarlog
