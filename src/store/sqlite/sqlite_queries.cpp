// The SQLite store's reads: sites, devices, a series' history and its neighbours.
#include "store/sqlite/sqlite_store.hpp"

namespace sb::store::sqlite {

Result<void> SqliteStore::upsert_site(const Site& s) {
  std::lock_guard lock(write_mutex_);
  auto& st = upsert_site_.reset();
  st.bind(1, s.id).bind(2, s.name).bind(3, s.latitude).bind(4, s.longitude).bind(5, s.timezone);
  if (st.step() != SQLITE_DONE) return fail(db_error(writer_, "upsert site " + s.id));
  return {};
}

Result<void> SqliteStore::upsert_device(const DeviceInfo& d, TimePoint seen) {
  std::lock_guard lock(write_mutex_);
  auto& st = upsert_device_.reset();
  st.bind(1, d.id).bind(2, d.site).bind(3, d.connection).bind(4, d.vendor).bind(5, d.kind);
  st.bind(6, d.manufacturer).bind(7, d.model).bind(8, d.serial).bind(9, d.firmware);
  st.bind(10, to_ms(seen));
  if (st.step() != SQLITE_DONE) return fail(db_error(writer_, "upsert device " + d.id));
  return {};
}

Result<std::vector<Site>> SqliteStore::sites() {
  std::lock_guard lock(read_mutex_);
  Stmt st(reader_, "SELECT id, name, latitude, longitude, timezone FROM sites ORDER BY id");
  return collect<Site>(st, reader_, "list sites", [&st] {
    return Site{st.text(0), st.text(1), st.f64(2), st.f64(3), st.text(4)};
  });
}

Result<std::vector<DeviceInfo>> SqliteStore::devices() {
  std::lock_guard lock(read_mutex_);
  Stmt st(reader_,
          "SELECT id, site_id, connection, vendor, kind, manufacturer, model, serial, firmware "
          "FROM devices ORDER BY id");
  return collect<DeviceInfo>(st, reader_, "list devices", [&st] {
    return DeviceInfo{st.text(0), st.text(1), st.text(2), st.text(3), st.text(4),
                      st.text(5), st.text(6), st.text(7), st.text(8)};
  });
}

Result<std::vector<SeriesPoint>> SqliteStore::history(const HistoryQuery& q) {
  std::lock_guard lock(read_mutex_);
  auto& find = find_series_r_.reset();
  find.bind(1, q.device).bind(2, q.metric);
  int rc = find.step();
  if (rc == SQLITE_DONE) return std::vector<SeriesPoint>{};
  if (rc != SQLITE_ROW) return fail(db_error(reader_, "find series"));
  std::int64_t series = find.i64(0);
  // Left on its row, the statement would hold the reader's snapshot: every later read on
  // this connection (commands, events) would see the database as it was then.
  find.reset();
  std::vector<SeriesPoint> out;
  auto from = to_ms(q.range.from), to = to_ms(q.range.to);
  if (!q.step) {
    auto& st = raw_history_.reset();
    st.bind(1, series).bind(2, from).bind(3, to).bind(4, static_cast<std::int64_t>(q.limit));
    while ((rc = st.step()) == SQLITE_ROW) {
      double v = st.f64(1);
      out.push_back({from_ms(st.i64(0)), v, v, v, 1, static_cast<Quality>(st.i64(2))});
    }
  } else {
    auto def = find_metric(q.metric);
    bool counter = def && def->kind == MetricKind::Counter;
    std::int64_t step = std::max<std::int64_t>(1, q.step->count());
    constexpr std::int64_t kHour = 3'600'000;
    // Exact only for whole hours on hour boundaries at both ends; anything else from samples.
    bool rollup = step % kHour == 0 && from % kHour == 0 && to % kHour == 0;
    auto& st = rollup ? rollup_history_.reset() : bucket_history_.reset();
    st.bind(1, from).bind(2, step).bind(3, series).bind(4, from).bind(5, to);
    st.bind(6, static_cast<std::int64_t>(q.limit));
    while ((rc = st.step()) == SQLITE_ROW) {
      SeriesPoint p;
      p.time = from_ms(from + st.i64(0) * step);
      p.min = st.f64(2);
      p.max = st.f64(3);
      p.value = counter ? p.max : st.f64(1);
      p.count = st.i64(4);
      p.quality = static_cast<Quality>(st.i64(5));
      out.push_back(p);
    }
  }
  if (rc != SQLITE_DONE) return fail(db_error(reader_, "read history"));
  return out;
}

Result<std::vector<std::pair<std::string, std::int64_t>>> SqliteStore::row_counts() {
  std::lock_guard lock(read_mutex_);
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (const char* table : kCountedTables) {
    Stmt st(reader_, ("SELECT count(*) FROM " + std::string(table)).c_str());
    if (st.step() != SQLITE_ROW) return fail(db_error(reader_, "count " + std::string(table)));
    out.emplace_back(table, st.i64(0));
  }
  return out;
}

Result<std::vector<std::string>> SqliteStore::metrics(const std::string& device) {
  std::lock_guard lock(read_mutex_);
  Stmt st(reader_, "SELECT metric FROM series WHERE device_id = ? ORDER BY metric");
  st.bind(1, device);
  return collect<std::string>(st, reader_, "list metrics", [&st] { return st.text(0); });
}

Result<std::optional<TimePoint>> SqliteStore::last_sample_time(const std::string& device) {
  std::lock_guard lock(read_mutex_);
  // Per series the newest row is one B-tree descent; the device has a few dozen series.
  Stmt st(reader_,
          "SELECT max((SELECT max(t) FROM samples WHERE series_id = r.id)) FROM series AS r "
          "WHERE r.device_id = ?");
  st.bind(1, device);
  if (st.step() != SQLITE_ROW) return fail(db_error(reader_, "newest sample of " + device));
  if (st.null(0)) return std::optional<TimePoint>{};
  return std::optional<TimePoint>(from_ms(st.i64(0)));
}

Result<std::optional<SeriesPoint>> SqliteStore::sample_at_or_before(const std::string& device,
                                                                    const std::string& metric,
                                                                    TimePoint t) {
  return neighbour(device, metric, t, "t <= ?3 ORDER BY t DESC");
}

Result<std::optional<SeriesPoint>> SqliteStore::sample_at_or_after(const std::string& device,
                                                                   const std::string& metric,
                                                                   TimePoint t) {
  return neighbour(device, metric, t, "t >= ?3 ORDER BY t ASC");
}

Result<std::optional<SeriesPoint>> SqliteStore::neighbour(const std::string& device,
                                                          const std::string& metric, TimePoint t,
                                                          std::string_view order) {
  std::lock_guard lock(read_mutex_);
  std::string sql =
      "SELECT t, value, quality FROM samples WHERE series_id = "
      "(SELECT id FROM series WHERE device_id = ?1 AND metric = ?2) AND " +
      std::string(order) + " LIMIT 1";
  Stmt st(reader_, sql.c_str());
  st.bind(1, device).bind(2, metric).bind(3, to_ms(t));
  int rc = st.step();
  if (rc == SQLITE_DONE) return std::optional<SeriesPoint>{};
  if (rc != SQLITE_ROW) return fail(db_error(reader_, "sample next to a time"));
  double v = st.f64(1);
  return std::optional<SeriesPoint>(
      SeriesPoint{from_ms(st.i64(0)), v, v, v, 1, static_cast<Quality>(st.i64(2))});
}

}  // namespace sb::store::sqlite
