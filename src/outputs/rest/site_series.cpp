#include "outputs/rest/site_series.hpp"

#include <date/tz.h>

#include <algorithm>
#include <boost/json.hpp>
#include <map>

#include "core/calendar.hpp"
#include "core/metric.hpp"
#include "net/json.hpp"

namespace sb::rest {

namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view kFlows[] = {metric::kPvPower, metric::kLoadPower, metric::kGridPower,
                                       metric::kBatteryPower, metric::kEvPower};

Result<const date::time_zone*> zone_of(const std::string& zone) {
  try {
    return date::locate_zone(zone);
  } catch (const std::exception&) {
    return fail(ErrorKind::InvalidArgument, "unknown time zone '" + zone + "'");
  }
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  auto q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// The site's devices, in id order, so that columns come in the same order every time.
std::vector<const DeviceInfo*> devices_of(const Site& site, const std::vector<DeviceInfo>& all) {
  std::vector<const DeviceInfo*> out;
  for (const auto& d : all)
    if (d.site == site.id) out.push_back(&d);
  std::sort(out.begin(), out.end(),
            [](const DeviceInfo* a, const DeviceInfo* b) { return a->id < b->id; });
  return out;
}

// A CSV field: quoted when it holds a comma, a quote or a line break (RFC 4180).
std::string csv_field(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string local_text(const date::time_zone* tz, TimePoint t) {
  auto local = tz->to_local(t);
  if (t.time_since_epoch() % 1000ms == 0ms)
    return date::format("%F %T", std::chrono::floor<std::chrono::seconds>(local));
  return date::format("%F %T", local);
}

}  // namespace

Result<TimePoint> bucket_start(const std::string& zone, TimePoint t, Millis step) {
  if (auto tz = zone_of(zone); !tz) return fail(tz.error());
  if (step <= 0ms) return t;
  constexpr Millis kDay = 24h;
  if (kDay % step == 0ms || step % kDay == 0ms) {
    auto midnight = Calendar(zone).midnight(t);  // the zone is known to exist now
    if (step >= kDay) return midnight;
    return midnight + ((t - midnight) / step) * step;
  }
  return from_ms(floor_div(to_ms(t), step.count()) * step.count());
}

Millis round_step(Millis span, std::size_t points) {
  constexpr int kMinutes[] = {1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440};
  points = std::max<std::size_t>(points, 1);
  for (int m : kMinutes) {
    Millis step = std::chrono::minutes(m);
    if (span / step <= static_cast<std::int64_t>(points)) return step;
  }
  Millis day = 24h;
  auto days =
      (span / day + static_cast<std::int64_t>(points) - 1) / static_cast<std::int64_t>(points);
  return day * std::max<std::int64_t>(1, days);
}

Result<json::object> site_power(store::Store& store, const Site& site,
                                const std::vector<DeviceInfo>& devices, TimePoint from,
                                TimePoint to, Millis step) {
  auto t0 = bucket_start(site.timezone, from, step);
  if (!t0) return fail(t0.error());
  if (to <= *t0) return fail(ErrorKind::InvalidArgument, "'from' must be before 'to'");
  const auto n = static_cast<std::size_t>((to - *t0 + step - Millis(1)) / step);
  if (n > 20'000)
    return fail(ErrorKind::InvalidArgument,
                "that range and step give over 20000 points; use a larger step");
  // Up to the end of the last bucket: the future has no samples, and whole hours on hour
  // boundaries are read from the hourly rollups instead of every sample.
  const TimePoint t1 = *t0 + step * static_cast<std::int64_t>(n);
  constexpr std::size_t kCount = std::size(kFlows);
  std::vector<std::vector<std::optional<double>>> sums(kCount,
                                                       std::vector<std::optional<double>>(n));
  bool present[kCount] = {};
  for (const auto* d : devices_of(site, devices)) {
    auto stored = store.metrics(d->id);
    if (!stored) return fail(stored.error());
    for (std::size_t f = 0; f < kCount; ++f) {
      if (std::find(stored->begin(), stored->end(), kFlows[f]) == stored->end()) continue;
      store::HistoryQuery q{d->id, std::string(kFlows[f]), {*t0, t1}, step, n + 1};
      auto h = store.history(q);
      if (!h) return fail(h.error());
      present[f] = true;
      for (const auto& p : *h) {
        auto i = static_cast<std::size_t>((p.time - *t0) / step);
        if (p.time < *t0 || i >= n) continue;
        sums[f][i] = sums[f][i].value_or(0) + p.value;
      }
    }
  }
  // pv, load, grid and battery always (a site's page draws them); the EV where there is one.
  std::vector<std::size_t> shown;
  for (std::size_t f = 0; f < kCount; ++f)
    if (f < 4 || present[f]) shown.push_back(f);
  json::array columns{"time_ms"};
  for (auto f : shown) columns.push_back(json::value(kFlows[f]));
  json::array points;
  std::optional<std::size_t> peak;
  for (std::size_t i = 0; i < n; ++i) {
    json::array row{to_ms(*t0 + step * static_cast<std::int64_t>(i))};
    for (auto f : shown) {
      const auto& v = sums[f][i];
      row.push_back(v ? json::value(std::round(*v * 10) / 10) : json::value(nullptr));
    }
    const auto& pv = sums[0][i];
    if (pv && (!peak || *pv > *sums[0][*peak])) peak = i;
    points.push_back(std::move(row));
  }
  json::object peaks;
  if (peak)
    peaks[metric::kPvPower] =
        json::object{{"w", std::round(*sums[0][*peak] * 10) / 10},
                     {"at", format_iso8601(*t0 + step * static_cast<std::int64_t>(*peak))}};
  return json::object{{"site", site.id},
                      {"timezone", site.timezone},
                      {"from", format_iso8601(*t0)},
                      {"to", format_iso8601(to)},
                      {"step_s", step.count() / 1000},
                      {"unit", "W"},
                      {"columns", std::move(columns)},
                      {"points", std::move(points)},
                      {"peak", std::move(peaks)}};
}

Result<std::string> site_csv(store::Store& store, const Site& site,
                             const std::vector<DeviceInfo>& devices, TimePoint from, TimePoint to,
                             std::optional<Millis> step) {
  constexpr std::size_t kMostCells = 2'000'000;
  auto tz = zone_of(site.timezone);
  if (!tz) return fail(tz.error());
  if (to <= from) return fail(ErrorKind::InvalidArgument, "'from' must be before 'to'");
  if (!step && to - from > std::chrono::days(7))
    return fail(ErrorKind::InvalidArgument,
                "raw samples are exported for at most 7 days; give a step (e.g. step=5m) for a "
                "longer range");
  TimePoint t0 = from;
  if (step) {
    auto aligned = bucket_start(site.timezone, from, *step);
    if (!aligned) return fail(aligned.error());
    t0 = *aligned;
  }
  struct Column {
    std::string device, metric, header;
  };
  std::vector<Column> columns;
  for (const auto* d : devices_of(site, devices)) {
    auto stored = store.metrics(d->id);
    if (!stored) return fail(stored.error());
    auto names = *stored;
    std::sort(names.begin(), names.end());
    for (const auto& m : names) {
      auto def = find_metric(m);
      auto unit = def ? std::string(unit_symbol(def->unit)) : std::string();
      columns.push_back({d->id, m, d->id + " " + m + (unit.empty() ? "" : " (" + unit + ")")});
    }
  }
  if (step) {
    auto rows = static_cast<std::size_t>((to - t0 + *step - Millis(1)) / *step);
    if (rows * std::max<std::size_t>(1, columns.size()) > kMostCells)
      return fail(ErrorKind::InvalidArgument,
                  "that range and step give " + std::to_string(rows) + " rows of " +
                      std::to_string(columns.size()) +
                      " columns, over 2000000 cells; use a larger step or a shorter range");
  }
  // time -> the row's values, one a column
  std::map<std::int64_t, std::vector<std::optional<double>>> rows;
  std::size_t cells = 0;
  for (std::size_t c = 0; c < columns.size(); ++c) {
    store::HistoryQuery q{columns[c].device, columns[c].metric, {t0, to}, step, kMostCells + 1};
    auto h = store.history(q);
    if (!h) return fail(h.error());
    cells += h->size();
    if (cells > kMostCells)
      return fail(ErrorKind::InvalidArgument,
                  "that range holds over 2000000 values; export it in parts or with a step");
    for (const auto& p : *h) {
      auto& row = rows[to_ms(p.time)];
      if (row.empty()) row.resize(columns.size());
      row[c] = p.value;
    }
  }
  std::string out = "time_utc,time_local";
  for (const auto& c : columns) out += "," + csv_field(c.header);
  out += "\r\n";
  for (const auto& [t, values] : rows) {
    out += format_iso8601(from_ms(t));
    out += ',';
    out += local_text(*tz, from_ms(t));
    for (const auto& v : values) {
      out += ',';
      if (v) out += net::number_text(*v);
    }
    out += "\r\n";
  }
  return out;
}

BackfillProgress backfill_progress(const Gap& g) {
  BackfillProgress p;
  const auto span = g.to - g.from;
  if (g.status == "filled" || span <= Millis(0)) {
    p.done = 1;
    return p;
  }
  const auto done = std::clamp(g.done_until, g.from, g.to) - g.from;
  p.done = static_cast<double>(done.count()) / static_cast<double>(span.count());
  const auto spent = g.updated_at - g.detected_at;
  if (done > Millis(0) && spent > Millis(0)) {
    p.pace = static_cast<double>(done.count()) / static_cast<double>(spent.count());
    if (g.status == "open")
      p.estimated_end =
          g.updated_at +
          Millis(static_cast<std::int64_t>(static_cast<double>((span - done).count()) / *p.pace));
  }
  return p;
}

}  // namespace sb::rest
