#include "outputs/rest/energy.hpp"

#include <date/tz.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <map>
#include <optional>

#include "core/metric.hpp"
#include "core/solar.hpp"

namespace sb::rest {

namespace json = boost::json;

namespace {

constexpr std::string_view kCounters[] = {
    metric::kEnergyPvYield, metric::kEnergyGridImport,    metric::kEnergyGridExport,
    metric::kEnergyLoad,    metric::kEnergyBatteryCharge, metric::kEnergyBatteryDischarge};

// A counter's value at `t`: the last one stored up to it (a value stored at the boundary itself
// belongs to it), at most six hours old. When the readings on both sides of `t` are less than
// an hour apart, the value between them at `t`: a cloud that reports every 5 or 15 minutes has
// the energy of the minutes before midnight in the day they belong to, not in the next.
std::optional<store::SeriesPoint> counter_at(store::Store& store, const std::string& device,
                                             std::string_view metric, TimePoint t) {
  const std::string m(metric);
  auto before = store.sample_at_or_before(device, m, t);
  if (!before || !*before || t - (*before)->time > std::chrono::hours(6)) return std::nullopt;
  const auto& b = **before;
  if (b.time == t) return b;
  auto after = store.sample_at_or_after(device, m, t);
  if (!after || !*after) return b;
  const auto& a = **after;
  if (a.time - b.time > std::chrono::hours(1) || a.value < b.value) return b;
  double f = double((t - b.time).count()) / double((a.time - b.time).count());
  store::SeriesPoint p = b;
  p.time = t;
  p.value = b.value + (a.value - b.value) * f;
  p.quality = std::max(a.quality, b.quality);
  return p;
}

// The first value stored in [from, to): where a period starts when nothing came before it
// (sunbridge started, or a device joined, during it).
std::optional<store::SeriesPoint> first_in(store::Store& store, const std::string& device,
                                           std::string_view metric, TimePoint from, TimePoint to) {
  store::HistoryQuery q{device, std::string(metric), {from, to}, std::nullopt, 1};
  auto h = store.history(q);
  if (h && !h->empty()) return h->front();
  return std::nullopt;
}

// The last value stored in [from, to]: where a period ends so far (today, this month), or
// when sunbridge stopped during it.
std::optional<store::SeriesPoint> last_in(store::Store& store, const std::string& device,
                                          std::string_view metric, TimePoint from, TimePoint to) {
  auto span = to + Millis(1) - from;
  store::HistoryQuery q{device, std::string(metric), {from, to + Millis(1)}, span, 10};
  auto h = store.history(q);
  if (h && !h->empty()) return h->back();
  return std::nullopt;
}

// part / whole as a share in % to 0.1, null without both or with nothing to share.
json::value share(const std::optional<double>& part, const std::optional<double>& whole) {
  if (!part || !whole || *whole <= 0) return nullptr;
  return std::round(std::clamp(*part / *whole, 0.0, 1.0) * 1000) / 10;
}

}  // namespace

Result<std::vector<TimePoint>> period_boundaries(const std::string& zone, EnergyPeriod period,
                                                 TimePoint from, TimePoint to) {
  const date::time_zone* tz = nullptr;
  try {
    tz = date::locate_zone(zone);
  } catch (const std::exception&) {
    return fail(ErrorKind::InvalidArgument, "unknown time zone '" + zone + "'");
  }
  auto local_day = [&](TimePoint t) { return date::floor<date::days>(tz->to_local(t)); };
  auto sys = [&](date::local_days d) {
    return std::chrono::time_point_cast<Millis>(tz->to_sys(d, date::choose::earliest));
  };
  std::vector<TimePoint> out;
  auto first = local_day(from), last = local_day(to);
  if (period == EnergyPeriod::Day) {
    for (auto d = first; d <= last + date::days(1); d += date::days(1)) {
      out.push_back(sys(d));
      if (out.size() > 401) break;
    }
  } else if (period == EnergyPeriod::Year) {
    for (auto y = date::year_month_day(first).year();
         y <= date::year_month_day(last).year() + date::years(1); y += date::years(1)) {
      out.push_back(sys(date::local_days(y / 1 / 1)));
      if (out.size() > 401) break;
    }
  } else {
    auto ym = date::year_month_day(first).year() / date::year_month_day(first).month();
    auto end = date::year_month_day(last).year() / date::year_month_day(last).month();
    for (auto m = ym; m <= end + date::months(1); m += date::months(1)) {
      out.push_back(sys(date::local_days(m / 1)));
      if (out.size() > 401) break;
    }
  }
  if (out.size() > 401)
    return fail(ErrorKind::InvalidArgument, "that range has over 400 periods; ask for less");
  return out;
}

Result<json::object> site_energy(store::Store& store, const Site& site,
                                 const std::vector<DeviceInfo>& devices, EnergyPeriod period,
                                 TimePoint from, TimePoint to) {
  auto bounds = period_boundaries(site.timezone, period, from, to);
  if (!bounds) return fail(bounds.error());
  // counters[metric][device][i]: the value at boundary i.
  std::map<std::string_view, std::map<std::string, std::vector<std::optional<store::SeriesPoint>>>>
      at;
  for (const auto& d : devices) {
    if (d.site != site.id) continue;
    auto stored = store.metrics(d.id);
    if (!stored) return fail(stored.error());
    for (auto m : kCounters) {
      if (std::find(stored->begin(), stored->end(), m) == stored->end()) continue;
      auto& v = at[m][d.id];
      for (auto b : *bounds) v.push_back(counter_at(store, d.id, m, b));
    }
  }
  json::array rows;
  for (std::size_t i = 0; i + 1 < bounds->size(); ++i) {
    json::object row{{"start", format_iso8601((*bounds)[i])},
                     {"end", format_iso8601((*bounds)[i + 1])}};
    bool complete = true;
    json::array estimated;
    std::map<std::string_view, std::optional<double>> sums;
    for (auto m : kCounters) {
      auto it = at.find(m);
      std::optional<double> sum;
      bool guessed = false;
      if (it != at.end())
        for (const auto& [device, v] : it->second) {
          auto start = v[i];
          if (!start) {  // from its first value in the period, if any: incomplete
            start = first_in(store, device, m, (*bounds)[i], (*bounds)[i + 1]);
            complete = false;
          }
          auto end = v[i + 1];
          if (!end) {  // up to its last value in the period: so far, incomplete
            end = last_in(store, device, m, (*bounds)[i], (*bounds)[i + 1]);
            complete = false;
          }
          if (!start || !end) {
            complete = false;
            continue;
          }
          sum = sum.value_or(0) + std::max(0.0, end->value - start->value);
          guessed |= start->quality == Quality::Estimated || end->quality == Quality::Estimated;
        }
      row[m] = sum ? json::value(*sum) : json::value(nullptr);
      sums[m] = sum;
      if (sum && guessed) estimated.push_back(json::value(m));
    }
    // Self-sufficiency: the home's use not imported; self-consumption: the PV not exported.
    const auto& load = sums[metric::kEnergyLoad];
    const auto& import = sums[metric::kEnergyGridImport];
    const auto& pv = sums[metric::kEnergyPvYield];
    const auto& export_ = sums[metric::kEnergyGridExport];
    row["self_sufficiency"] =
        share(load && import ? std::optional<double>(*load - *import) : std::nullopt, load);
    row["self_consumption"] =
        share(pv && export_ ? std::optional<double>(*pv - *export_) : std::nullopt, pv);
    row["estimated"] = std::move(estimated);
    // What the site's arrays would give over the period under a clear sky.
    row["pv_expected"] =
        site.pv.empty()
            ? json::value(nullptr)
            : json::value(std::round(clear_sky_pv_wh(site.pv, site.latitude, site.longitude,
                                                     (*bounds)[i], (*bounds)[i + 1])));
    row["complete"] = complete;
    rows.push_back(std::move(row));
  }
  json::array columns;
  for (auto m : kCounters) columns.push_back(json::value(m));
  return json::object{{"site", site.id},
                      {"timezone", site.timezone},
                      {"period", period == EnergyPeriod::Day     ? "day"
                                 : period == EnergyPeriod::Month ? "month"
                                                                 : "year"},
                      {"unit", "Wh"},
                      {"metrics", std::move(columns)},
                      {"rows", std::move(rows)}};
}

}  // namespace sb::rest
