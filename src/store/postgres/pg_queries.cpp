// The PostgreSQL store's reads: sites, devices, a series' history and its neighbours.
#include <algorithm>

#include "core/metric.hpp"
#include "store/postgres/pg_store.hpp"

namespace sb::store::postgres {

Result<void> PgStore::upsert_site(const Site& s) {
  std::lock_guard lock(write_mutex_);
  return writer_.exec(
      "INSERT INTO sites (id, name, latitude, longitude, timezone) VALUES "
      "($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, "
      "latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude, "
      "timezone = EXCLUDED.timezone",
      "upsert site " + s.id,
      Params().add(s.id).add(s.name).add(s.latitude).add(s.longitude).add(s.timezone));
}

Result<void> PgStore::upsert_device(const DeviceInfo& d, TimePoint seen) {
  std::lock_guard lock(write_mutex_);
  Params p;
  p.add(d.id).add(d.site).add(d.connection).add(d.vendor).add(d.kind).add(d.manufacturer);
  p.add(d.model).add(d.serial).add(d.firmware).add_time(seen);
  return writer_.exec(
      "INSERT INTO devices (id, site_id, connection, vendor, kind, manufacturer, model, "
      "serial, firmware, first_seen, last_seen) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$10) "
      "ON CONFLICT (id) DO UPDATE SET site_id = EXCLUDED.site_id, "
      "connection = EXCLUDED.connection, vendor = EXCLUDED.vendor, kind = EXCLUDED.kind, "
      "manufacturer = EXCLUDED.manufacturer, model = EXCLUDED.model, "
      "serial = EXCLUDED.serial, firmware = EXCLUDED.firmware, "
      "last_seen = EXCLUDED.last_seen",
      "upsert device " + d.id, p);
}

Result<std::vector<Site>> PgStore::sites() {
  return collect<Site>(
      "SELECT id, name, latitude, longitude, timezone FROM sites ORDER BY id", {}, "list sites",
      [](const Res& r, int i) {
        return Site{r.text(i, 0), r.text(i, 1), r.f64(i, 2), r.f64(i, 3), r.text(i, 4)};
      });
}

Result<std::vector<DeviceInfo>> PgStore::devices() {
  return collect<DeviceInfo>(
      "SELECT id, site_id, connection, vendor, kind, manufacturer, model, serial, firmware "
      "FROM devices ORDER BY id",
      {}, "list devices", [](const Res& r, int i) {
        return DeviceInfo{r.text(i, 0), r.text(i, 1), r.text(i, 2), r.text(i, 3), r.text(i, 4),
                          r.text(i, 5), r.text(i, 6), r.text(i, 7), r.text(i, 8)};
      });
}

Result<std::vector<SeriesPoint>> PgStore::history(const HistoryQuery& q) {
  auto from = to_ms(q.range.from), to = to_ms(q.range.to);
  auto limit = static_cast<std::int64_t>(q.limit);
  const std::string series = "(SELECT id FROM series WHERE device_id = $1 AND metric = $2)";
  if (!q.step)
    return collect<SeriesPoint>(
        "SELECT t, value, quality FROM samples WHERE series_id = " + series +
            " AND t >= $3 AND t < $4 ORDER BY t LIMIT $5",
        Params().add(q.device).add(q.metric).add(from).add(to).add(limit), "read history",
        [](const Res& r, int i) {
          double v = r.f64(i, 1);
          return SeriesPoint{from_ms(r.i64(i, 0)), v, v, v, 1, static_cast<Quality>(r.i64(i, 2))};
        });
  auto def = find_metric(q.metric);
  bool counter = def && def->kind == MetricKind::Counter;
  std::int64_t step = std::max<std::int64_t>(1, q.step->count());
  constexpr std::int64_t kHour = 3'600'000;
  // Exact only for whole hours on hour boundaries at both ends; anything else from samples.
  bool rollup = step % kHour == 0 && from % kHour == 0 && to % kHour == 0;
  std::string sql =
      rollup ? "SELECT (t - $3) / $5 AS b, sum(total) / sum(n), min(lo), max(hi), sum(n), "
               "max(quality) FROM rollups_hour WHERE series_id = " +
                   series + " AND t >= $3 AND t < $4 GROUP BY b ORDER BY b LIMIT $6"
             : "SELECT (t - $3) / $5 AS b, avg(value), min(value), max(value), count(*), "
               "max(quality) FROM samples WHERE series_id = " +
                   series + " AND t >= $3 AND t < $4 GROUP BY b ORDER BY b LIMIT $6";
  return collect<SeriesPoint>(
      sql, Params().add(q.device).add(q.metric).add(from).add(to).add(step).add(limit),
      "read history", [&](const Res& r, int i) {
        SeriesPoint p;
        p.time = from_ms(from + r.i64(i, 0) * step);
        p.min = r.f64(i, 2);
        p.max = r.f64(i, 3);
        p.value = counter ? p.max : r.f64(i, 1);
        p.count = r.i64(i, 4);
        p.quality = static_cast<Quality>(r.i64(i, 5));
        return p;
      });
}

Result<std::vector<std::pair<std::string, std::int64_t>>> PgStore::row_counts() {
  std::string sql = "SELECT ";
  for (std::size_t i = 0; i < std::size(kCountedTables); ++i)
    sql += std::string(i ? ", " : "") + "(SELECT count(*) FROM " + kCountedTables[i] + ")";
  auto counts = collect<std::vector<std::int64_t>>(sql, {}, "count rows", [](const Res& r, int i) {
    std::vector<std::int64_t> v;
    for (std::size_t c = 0; c < std::size(kCountedTables); ++c)
      v.push_back(r.i64(i, static_cast<int>(c)));
    return v;
  });
  if (!counts) return fail(counts.error());
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (std::size_t c = 0; c < std::size(kCountedTables); ++c)
    out.emplace_back(kCountedTables[c], counts->front()[c]);
  return out;
}

Result<std::vector<std::string>> PgStore::metrics(const std::string& device) {
  return collect<std::string>("SELECT metric FROM series WHERE device_id = $1 ORDER BY metric",
                              Params().add(device), "list metrics",
                              [](const Res& r, int i) { return r.text(i, 0); });
}

Result<std::optional<TimePoint>> PgStore::last_sample_time(const std::string& device) {
  // Per series the newest row is one index descent per partition; a device has a few dozen.
  auto rows = collect<std::optional<TimePoint>>(
      "SELECT max(x.t) FROM series AS r, LATERAL (SELECT max(t) AS t FROM samples "
      "WHERE series_id = r.id) AS x WHERE r.device_id = $1",
      Params().add(device), "newest sample of " + device, [](const Res& r, int i) {
        return r.null(i, 0) ? std::optional<TimePoint>{} : from_ms(r.i64(i, 0));
      });
  if (!rows) return fail(rows.error());
  return rows->empty() ? std::optional<TimePoint>{} : rows->front();
}

Result<std::optional<SeriesPoint>> PgStore::sample_at_or_before(const std::string& device,
                                                                const std::string& metric,
                                                                TimePoint t) {
  return neighbour(device, metric, t, "t <= $3 ORDER BY t DESC");
}

Result<std::optional<SeriesPoint>> PgStore::sample_at_or_after(const std::string& device,
                                                               const std::string& metric,
                                                               TimePoint t) {
  return neighbour(device, metric, t, "t >= $3 ORDER BY t ASC");
}

Result<std::optional<SeriesPoint>> PgStore::neighbour(const std::string& device,
                                                      const std::string& metric, TimePoint t,
                                                      std::string_view order) {
  auto rows = collect<SeriesPoint>(
      "SELECT t, value, quality FROM samples WHERE series_id = "
      "(SELECT id FROM series WHERE device_id = $1 AND metric = $2) AND " +
          std::string(order) + " LIMIT 1",
      Params().add(device).add(metric).add_time(t), "sample next to a time",
      [](const Res& r, int i) {
        double v = r.f64(i, 1);
        return SeriesPoint{from_ms(r.i64(i, 0)), v, v, v, 1, static_cast<Quality>(r.i64(i, 2))};
      });
  if (!rows) return fail(rows.error());
  return rows->empty() ? std::optional<SeriesPoint>{} : std::optional(rows->front());
}

}  // namespace sb::store::postgres
