#include "store/sqlite/sqlite_store.hpp"

namespace sb::store::sqlite {

SqliteStore::SqliteStore(std::string path, SqliteOptions options)
    : QueuedStore(options.queue_capacity, options.max_batch),
      path_(std::move(path)),
      options_(options) {}

SqliteStore::~SqliteStore() {
  close();
  if (reader_) sqlite3_close_v2(reader_);
  if (writer_) sqlite3_close_v2(writer_);
}

Result<void> SqliteStore::open() {
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (path_ == ":memory:") {
    // Two connections must see one database: a named shared-cache in-memory database.
    static std::atomic<int> counter{0};
    path_ = "file:sunbridge-mem-" + std::to_string(counter++) + "?mode=memory&cache=shared";
    flags |= SQLITE_OPEN_URI;
    memory_ = true;
  }
  if (sqlite3_open_v2(path_.c_str(), &writer_, flags, nullptr) != SQLITE_OK)
    return fail(ErrorKind::Internal,
                "cannot open database '" + path_ + "': " + sqlite3_errmsg(writer_));
  sqlite3_busy_timeout(writer_, static_cast<int>(options_.busy_timeout.count()));
  if (auto r = exec(writer_, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;", "pragmas"); !r)
    return r;
  if (options_.synchronous_normal)
    if (auto r = exec(writer_, "PRAGMA synchronous=NORMAL;", "pragmas"); !r) return r;
  if (auto r = migrate(); !r) return r;
  if (sqlite3_open_v2(path_.c_str(), &reader_, flags, nullptr) != SQLITE_OK)
    return fail(ErrorKind::Internal,
                "cannot open database '" + path_ + "' for reading: " + sqlite3_errmsg(reader_));
  sqlite3_busy_timeout(reader_, 5000);
  // An in-memory database shares one cache between the connections, and shared cache locks
  // whole tables (SQLITE_LOCKED, which no busy timeout waits out): a chart query would
  // fail the writer's batch. Reading uncommitted data lifts the read locks. Files use WAL.
  if (memory_) (void)exec(reader_, "PRAGMA read_uncommitted = 1;", "pragmas");
  if (!prepare())
    return fail(ErrorKind::Internal, "sqlite: preparing statements: " + prepare_error_);
  // Hours a crash left unrolled (written in the last minute before it): rebuilt from the
  // newest rolled-up hour on.
  if (auto r =
          exec(writer_, rollup_sql("t >= (SELECT coalesce(max(t), 0) FROM rollups_hour)").c_str(),
               "catch up the hourly rollups");
      !r)
    return r;
  queue_.start();
  return {};
}

StoreStats SqliteStore::stats() const {
  StoreStats s;
  queue_.fill(s);
  s.pruned_rows = pruned_.load();
  if (!memory_) {
    namespace fs = std::filesystem;
    std::error_code ec;
    for (const auto& p : {path_, path_ + "-wal"}) {
      auto n = fs::file_size(p, ec);
      if (!ec) s.database_bytes += static_cast<std::int64_t>(n);
    }
    auto dir = fs::absolute(path_, ec).parent_path();
    auto space = fs::space(dir, ec);
    if (!ec) {
      s.disk_free_bytes = static_cast<std::int64_t>(space.available);
      s.disk_total_bytes = static_cast<std::int64_t>(space.capacity);
    }
  }
  return s;
}

void SqliteStore::close() {
  if (closed_.exchange(true)) return;
  queue_.stop();
  if (writer_) {
    std::lock_guard wl(write_mutex_);
    if (plan_.waiting() > 0 && exec(writer_, "BEGIN", "begin")) {  // the hours still waiting
      if (roll_up({}, true))
        (void)exec(writer_, "COMMIT", "commit");
      else
        (void)exec(writer_, "ROLLBACK", "rollback");
    }
    (void)exec(writer_, "PRAGMA wal_checkpoint(PASSIVE);", "checkpoint");
  }
}

void SqliteStore::bind_time(Stmt& st, int i, const std::optional<TimePoint>& t) {
  if (t)
    st.bind(i, to_ms(*t));
  else
    st.bind_null(i);
}

Result<void> SqliteStore::migrate() {
  if (auto r = exec(writer_,
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                    "name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
                    "schema_migrations");
      !r)
    return r;
  Stmt cur(writer_, "SELECT coalesce(max(version), 0) FROM schema_migrations");
  cur.step();
  int current = static_cast<int>(cur.i64(0));
  if (current > latest_schema_version())
    return fail(ErrorKind::Internal,
                "database '" + path_ + "' has schema version " + std::to_string(current) +
                    ", newer than this sunbridge knows (" +
                    std::to_string(latest_schema_version()) + "): upgrade sunbridge");
  std::vector<std::pair<int, const EmbeddedFile*>> todo;
  for (std::size_t i = 0; i < sb_migrations_count; ++i) {
    int v = std::stoi(std::string(sb_migrations[i].path.substr(0, 4)));
    if (v > current) todo.emplace_back(v, &sb_migrations[i]);
  }
  std::sort(todo.begin(), todo.end());
  for (auto [v, f] : todo) {
    if (auto r = exec(writer_, "BEGIN", "begin"); !r) return r;
    auto r = exec(writer_, std::string(f->data), "migration " + std::string(f->path));
    if (r) {
      Stmt rec(writer_, "INSERT INTO schema_migrations VALUES (?, ?, strftime('%s','now') * 1000)");
      rec.bind(1, static_cast<std::int64_t>(v)).bind(2, f->path);
      if (rec.step() != SQLITE_DONE) r = fail(db_error(writer_, "record migration"));
    }
    if (!r) {
      (void)exec(writer_, "ROLLBACK", "rollback");
      return r;
    }
    if (auto c = exec(writer_, "COMMIT", "commit"); !c) return c;
  }
  return {};
}

bool SqliteStore::prepare() {
  auto check = [&](Stmt& s) {
    if (!s.ok() && prepare_error_.empty()) prepare_error_ = s.error();
    return s.ok();
  };
  upsert_site_ = Stmt(writer_,
                      "INSERT INTO sites (id, name, latitude, longitude, timezone) VALUES "
                      "(?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET name=excluded.name, "
                      "latitude=excluded.latitude, longitude=excluded.longitude, "
                      "timezone=excluded.timezone");
  upsert_device_ = Stmt(writer_,
                        "INSERT INTO devices (id, site_id, connection, vendor, kind, "
                        "manufacturer, model, serial, firmware, first_seen, last_seen) VALUES "
                        "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?10) ON CONFLICT(id) DO UPDATE SET "
                        "site_id=excluded.site_id, connection=excluded.connection, "
                        "vendor=excluded.vendor, kind=excluded.kind, "
                        "manufacturer=excluded.manufacturer, model=excluded.model, "
                        "serial=excluded.serial, firmware=excluded.firmware, "
                        "last_seen=excluded.last_seen");
  insert_series_ = Stmt(writer_, "INSERT OR IGNORE INTO series (device_id, metric) VALUES (?, ?)");
  find_series_w_ = Stmt(writer_, "SELECT id FROM series WHERE device_id = ? AND metric = ?");
  find_series_r_ = Stmt(reader_, "SELECT id FROM series WHERE device_id = ? AND metric = ?");
  upsert_sample_ = Stmt(writer_,
                        "INSERT INTO samples (series_id, t, value, quality) VALUES (?,?,?,?) "
                        "ON CONFLICT(series_id, t) DO UPDATE SET value=excluded.value, "
                        "quality=excluded.quality WHERE excluded.quality <= samples.quality");
  insert_event_ = Stmt(writer_,
                       "INSERT OR IGNORE INTO events (device_id, t, severity, code, message) "
                       "VALUES (?,?,?,?,?)");
  raw_history_ = Stmt(reader_,
                      "SELECT t, value, quality FROM samples WHERE series_id = ? AND t >= ? AND "
                      "t < ? ORDER BY t LIMIT ?");
  bucket_history_ = Stmt(reader_,
                         "SELECT (t - ?1) / ?2 AS b, avg(value), min(value), max(value), "
                         "count(*), max(quality) FROM samples WHERE series_id = ?3 AND t >= ?4 "
                         "AND t < ?5 GROUP BY b ORDER BY b LIMIT ?6");
  // The same buckets from the hourly rollups, for hour-aligned ranges in whole hours.
  rollup_history_ = Stmt(reader_,
                         "SELECT (t - ?1) / ?2 AS b, sum(total) / sum(n), min(lo), max(hi), "
                         "sum(n), max(quality) FROM rollups_hour WHERE series_id = ?3 AND "
                         "t >= ?4 AND t < ?5 GROUP BY b ORDER BY b LIMIT ?6");
  // One hour of one series recomputed from its samples (a replay or a better-quality value
  // replaces samples, so the rollup is rebuilt, never added to).
  rollup_hour_ =
      Stmt(writer_, rollup_sql("series_id = ?1 AND t >= ?2 AND t < ?2 + 3600000").c_str());
  return check(upsert_site_) && check(upsert_device_) && check(insert_series_) &&
         check(find_series_w_) && check(find_series_r_) && check(upsert_sample_) &&
         check(insert_event_) && check(raw_history_) && check(bucket_history_) &&
         check(rollup_history_) && check(rollup_hour_);
}

}  // namespace sb::store::sqlite

namespace sb::store {

using sqlite::SqliteStore;
using namespace sqlite;

Result<BackupReport> backup_sqlite(const std::string& database, const std::string& to,
                                   bool overwrite) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(database, ec))
    return fail(ErrorKind::NotFound, "no database '" + database + "' to back up");
  if (fs::exists(to, ec) && !overwrite)
    return fail(ErrorKind::InvalidArgument,
                "'" + to + "' exists; choose another file or give --force to replace it");
  auto partial = to + ".partial";
  fs::remove(partial, ec);
  sqlite3* src = nullptr;
  sqlite3* dst = nullptr;
  auto cleanup = [&] {
    if (src) sqlite3_close_v2(src);
    if (dst) sqlite3_close_v2(dst);
    src = dst = nullptr;
  };
  if (sqlite3_open_v2(database.c_str(), &src, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    auto e = fail(ErrorKind::Internal,
                  "cannot open '" + database + "' to back it up: " + sqlite3_errmsg(src));
    cleanup();
    return e;
  }
  sqlite3_busy_timeout(src, 10'000);
  if (sqlite3_open_v2(partial.c_str(), &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    auto e = fail(ErrorKind::Internal, "cannot create '" + partial + "': " + sqlite3_errmsg(dst));
    cleanup();
    return e;
  }
  // All pages in one step: a read transaction on the source, which writers in WAL mode do not
  // wait for, and which a write by another connection cannot restart halfway.
  auto* b = sqlite3_backup_init(dst, "main", src, "main");
  if (!b) {
    auto e = fail(ErrorKind::Internal, std::string("backup: ") + sqlite3_errmsg(dst));
    cleanup();
    fs::remove(partial, ec);
    return e;
  }
  int rc = sqlite3_backup_step(b, -1);
  BackupReport report;
  report.pages = sqlite3_backup_pagecount(b);
  sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE) {
    auto e = fail(ErrorKind::Internal,
                  std::string("backup of '") + database + "' failed: " + sqlite3_errstr(rc));
    cleanup();
    fs::remove(partial, ec);
    return e;
  }
  // The copy is checked before it takes the name.
  Stmt check(dst, "PRAGMA integrity_check");
  std::string verdict = check.step() == SQLITE_ROW ? check.text(0) : "no answer";
  check = Stmt();
  Stmt count(dst, "SELECT count(*) FROM samples");
  if (count.step() == SQLITE_ROW) report.samples = count.i64(0);
  count = Stmt();
  cleanup();
  if (verdict != "ok") {
    fs::remove(partial, ec);
    return fail(ErrorKind::Internal, "the copy of '" + database + "' failed its check: " + verdict);
  }
  fs::rename(partial, to, ec);
  if (ec) return fail(ErrorKind::Internal, "cannot move the copy to '" + to + "': " + ec.message());
  report.bytes = static_cast<std::int64_t>(fs::file_size(to, ec));
  return report;
}

int latest_schema_version() {
  int v = 0;
  for (std::size_t i = 0; i < sb_migrations_count; ++i)
    v = std::max(v, std::stoi(std::string(sb_migrations[i].path.substr(0, 4))));
  return v;
}

Result<std::unique_ptr<Store>> open_sqlite(const std::string& path, SqliteOptions options) {
  auto s = std::make_unique<SqliteStore>(path, options);
  if (auto r = s->open(); !r) return fail(r.error());
  return std::unique_ptr<Store>(std::move(s));
}

}  // namespace sb::store
