#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>

#include "core/embedded.hpp"
#include "core/metric.hpp"
#include "store/store.hpp"

extern const sb::EmbeddedFile sb_migrations[];
extern const std::size_t sb_migrations_count;

namespace sb::store {

namespace {

// A prepared statement that resets itself; columns and binds by 1-based index as SQLite has it.
// The hourly rollups of the samples `where` selects, written over what was there (migration
// 0003 builds them the same way).
std::string rollup_sql(std::string_view where) {
  return "INSERT OR REPLACE INTO rollups_hour "
         "SELECT a.series_id, a.h, a.n, a.total, a.lo, a.hi, s.value, a.q FROM "
         "(SELECT series_id, (t / 3600000) * 3600000 AS h, count(*) AS n, sum(value) AS total, "
         "min(value) AS lo, max(value) AS hi, max(t) AS mt, max(quality) AS q FROM samples "
         "WHERE " +
         std::string(where) +
         " GROUP BY series_id, h) AS a "
         "JOIN samples AS s ON s.series_id = a.series_id AND s.t = a.mt";
}

class Stmt {
 public:
  Stmt() = default;
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s_, nullptr) != SQLITE_OK)
      error_ = sqlite3_errmsg(db);
  }
  Stmt(Stmt&& o) noexcept
      : db_(o.db_), s_(std::exchange(o.s_, nullptr)), error_(std::move(o.error_)) {}
  Stmt& operator=(Stmt&& o) noexcept {
    std::swap(db_, o.db_);
    std::swap(s_, o.s_);
    std::swap(error_, o.error_);
    return *this;
  }
  ~Stmt() { sqlite3_finalize(s_); }
  bool ok() const { return s_ != nullptr; }
  const std::string& error() const { return error_; }

  Stmt& reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
    return *this;
  }
  Stmt& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& bind(int i, double v) {
    sqlite3_bind_double(s_, i, v);
    return *this;
  }
  Stmt& bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind_null(int i) {
    sqlite3_bind_null(s_, i);
    return *this;
  }
  template <class T>
  Stmt& bind_opt(int i, const std::optional<T>& v) {
    return v ? bind(i, *v) : bind_null(i);
  }
  /// SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(s_); }
  std::int64_t i64(int c) const { return sqlite3_column_int64(s_, c); }
  double f64(int c) const { return sqlite3_column_double(s_, c); }
  bool null(int c) const { return sqlite3_column_type(s_, c) == SQLITE_NULL; }
  std::string text(int c) const {
    auto p = sqlite3_column_text(s_, c);
    return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(s_, c)) : "";
  }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* s_ = nullptr;
  std::string error_;
};

Result<void> exec(sqlite3* db, const std::string& sql, std::string_view what) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    return fail(ErrorKind::Internal, "sqlite: " + std::string(what) + ": " + m);
  }
  return {};
}

Error db_error(sqlite3* db, std::string_view what) {
  return Error{ErrorKind::Internal, "sqlite: " + std::string(what) + ": " + sqlite3_errmsg(db)};
}

// "?3,?4,?5": `n` numbered parameters from `first`.
std::string placeholders(std::size_t n, int first) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i)
    out += (i ? ",?" : "?") + std::to_string(first + static_cast<int>(i));
  return out;
}

std::string series_key(std::string_view device, std::string_view metric) {
  std::string k(device);
  k += '\x1f';
  k += metric;
  return k;
}

class SqliteStore final : public Store {
 public:
  SqliteStore(std::string path, SqliteOptions options)
      : path_(std::move(path)), options_(options) {}

  ~SqliteStore() override {
    close();
    if (reader_) sqlite3_close_v2(reader_);
    if (writer_) sqlite3_close_v2(writer_);
  }

  Result<void> open() {
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
    // Running from before the thread starts: a flush() that comes first must wait for it.
    writer_running_ = true;
    writer_thread_ = std::thread([this] { writer_loop(); });
    return {};
  }

  // --- sites and devices -------------------------------------------------------------------

  Result<void> upsert_site(const Site& s) override {
    std::lock_guard lock(write_mutex_);
    auto& st = upsert_site_.reset();
    st.bind(1, s.id).bind(2, s.name).bind(3, s.latitude).bind(4, s.longitude).bind(5, s.timezone);
    if (st.step() != SQLITE_DONE) return fail(db_error(writer_, "upsert site " + s.id));
    return {};
  }

  Result<void> upsert_device(const DeviceInfo& d, TimePoint seen) override {
    std::lock_guard lock(write_mutex_);
    auto& st = upsert_device_.reset();
    st.bind(1, d.id).bind(2, d.site).bind(3, d.connection).bind(4, d.vendor).bind(5, d.kind);
    st.bind(6, d.manufacturer).bind(7, d.model).bind(8, d.serial).bind(9, d.firmware);
    st.bind(10, to_ms(seen));
    if (st.step() != SQLITE_DONE) return fail(db_error(writer_, "upsert device " + d.id));
    return {};
  }

  Result<std::vector<Site>> sites() override {
    std::lock_guard lock(read_mutex_);
    Stmt st(reader_, "SELECT id, name, latitude, longitude, timezone FROM sites ORDER BY id");
    std::vector<Site> out;
    int rc;
    while ((rc = st.step()) == SQLITE_ROW)
      out.push_back({st.text(0), st.text(1), st.f64(2), st.f64(3), st.text(4)});
    if (rc != SQLITE_DONE) return fail(db_error(reader_, "list sites"));
    return out;
  }

  Result<std::vector<DeviceInfo>> devices() override {
    std::lock_guard lock(read_mutex_);
    Stmt st(reader_,
            "SELECT id, site_id, connection, vendor, kind, manufacturer, model, serial, firmware "
            "FROM devices ORDER BY id");
    std::vector<DeviceInfo> out;
    int rc;
    while ((rc = st.step()) == SQLITE_ROW)
      out.push_back({st.text(0), st.text(1), st.text(2), st.text(3), st.text(4), st.text(5),
                     st.text(6), st.text(7), st.text(8)});
    if (rc != SQLITE_DONE) return fail(db_error(reader_, "list devices"));
    return out;
  }

  // --- samples -----------------------------------------------------------------------------

  Result<void> enqueue(std::vector<Sample> samples) override {
    if (samples.empty()) return {};
    std::lock_guard lock(queue_mutex_);
    if (closed_) return fail(ErrorKind::Internal, "store is closed");
    if (queued_ + in_flight_ + samples.size() > options_.queue_capacity) {
      auto why = "store queue full (" + std::to_string(queued_) +
                 " samples waiting): " + std::to_string(samples.size()) + " samples dropped";
      note_dropped_locked(samples, why);
      return fail(ErrorKind::Internal, why);
    }
    queued_ += samples.size();
    ++enqueued_batches_;
    queue_.push_back(std::move(samples));
    queue_cv_.notify_one();
    return {};
  }

  Result<void> write_samples(const std::vector<Sample>& samples) override {
    std::lock_guard lock(write_mutex_);
    auto r = write_batch(samples, true);
    if (r) written_ += samples.size();
    return r;
  }

  Result<void> flush() override {
    // Waits for what was enqueued before this call, not for an empty queue: pollers keep
    // adding while we wait.
    std::unique_lock lock(queue_mutex_);
    auto target = enqueued_batches_;
    drained_cv_.wait(lock, [&] { return done_batches_ >= target || !writer_running_; });
    if (!last_error_.empty()) {
      std::string e = std::exchange(last_error_, {});
      return fail(ErrorKind::Internal, e);
    }
    return {};
  }

  std::vector<DroppedSamples> take_dropped(const std::vector<std::string>& devices) override {
    std::lock_guard lock(queue_mutex_);
    std::vector<DroppedSamples> out;
    for (const auto& d : devices)
      if (auto it = lost_.find(d); it != lost_.end()) {
        out.push_back(std::move(it->second));
        lost_.erase(it);
      }
    return out;
  }

  Result<std::vector<SeriesPoint>> history(const HistoryQuery& q) override {
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

  Result<std::vector<std::string>> metrics(const std::string& device) override {
    std::lock_guard lock(read_mutex_);
    Stmt st(reader_, "SELECT metric FROM series WHERE device_id = ? ORDER BY metric");
    st.bind(1, device);
    std::vector<std::string> out;
    int rc;
    while ((rc = st.step()) == SQLITE_ROW) out.push_back(st.text(0));
    if (rc != SQLITE_DONE) return fail(db_error(reader_, "list metrics"));
    return out;
  }

  Result<std::optional<TimePoint>> last_sample_time(const std::string& device) override {
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

  Result<std::optional<SeriesPoint>> sample_at_or_before(const std::string& device,
                                                         const std::string& metric,
                                                         TimePoint t) override {
    return neighbour(device, metric, t, "t <= ?3 ORDER BY t DESC");
  }
  Result<std::optional<SeriesPoint>> sample_at_or_after(const std::string& device,
                                                        const std::string& metric,
                                                        TimePoint t) override {
    return neighbour(device, metric, t, "t >= ?3 ORDER BY t ASC");
  }

  // --- gaps --------------------------------------------------------------------------------

  Result<std::int64_t> add_gap(const Gap& g) override {
    std::lock_guard lock(write_mutex_);
    Stmt st(writer_,
            "INSERT INTO gaps (device_id, metric, t_from, t_to, reason, status, detail, filled, "
            "attempts, done_until, next_attempt, parent_id, detected_at, updated_at) "
            "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14) "
            "ON CONFLICT(device_id, metric, t_from) DO UPDATE SET "
            "t_to = max(gaps.t_to, excluded.t_to), updated_at = excluded.updated_at "
            "RETURNING id");
    st.bind(1, g.device).bind(2, g.metric).bind(3, to_ms(g.from)).bind(4, to_ms(g.to));
    st.bind(5, g.reason).bind(6, g.status).bind(7, g.detail).bind(8, g.filled);
    st.bind(9, static_cast<std::int64_t>(g.attempts)).bind(10, to_ms(g.done_until));
    bind_time(st, 11, g.next_attempt);
    if (g.parent) st.bind(12, g.parent);
    st.bind(13, to_ms(g.detected_at)).bind(14, to_ms(g.updated_at));
    if (st.step() != SQLITE_ROW) return fail(db_error(writer_, "insert gap of " + g.device));
    auto id = st.i64(0);
    st.reset();
    return id;
  }

  Result<void> update_gap(const Gap& g) override {
    std::lock_guard lock(write_mutex_);
    Stmt st(writer_,
            "UPDATE gaps SET t_to = ?1, status = ?2, detail = ?3, filled = ?4, attempts = ?5, "
            "done_until = ?6, next_attempt = ?7, updated_at = ?8 WHERE id = ?9");
    st.bind(1, to_ms(g.to)).bind(2, g.status).bind(3, g.detail).bind(4, g.filled);
    st.bind(5, static_cast<std::int64_t>(g.attempts)).bind(6, to_ms(g.done_until));
    bind_time(st, 7, g.next_attempt);
    st.bind(8, to_ms(g.updated_at)).bind(9, g.id);
    if (st.step() != SQLITE_DONE) return fail(db_error(writer_, "update gap"));
    if (sqlite3_changes(writer_) != 1)
      return fail(ErrorKind::NotFound, "gap " + std::to_string(g.id) + " is not recorded");
    return {};
  }

  Result<std::vector<Gap>> gaps(const GapQuery& q) override {
    std::lock_guard lock(read_mutex_);
    std::string sql =
        "SELECT id, device_id, metric, t_from, t_to, reason, status, detail, filled, attempts, "
        "done_until, next_attempt, parent_id, detected_at, updated_at FROM gaps WHERE 1=1";
    if (q.device) sql += " AND device_id = ?1";
    if (q.range) sql += " AND t_to > ?2 AND t_from < ?3";
    if (!q.statuses.empty()) {
      sql += " AND status IN (" + placeholders(q.statuses.size(), 5) + ")";
    }
    sql += " ORDER BY t_from DESC, id DESC LIMIT ?4";
    Stmt st(reader_, sql.c_str());
    if (!st.ok()) return fail(ErrorKind::Internal, "sqlite: gaps query: " + st.error());
    if (q.device) st.bind(1, *q.device);
    if (q.range) st.bind(2, to_ms(q.range->from)).bind(3, to_ms(q.range->to));
    st.bind(4, static_cast<std::int64_t>(q.limit));
    for (std::size_t i = 0; i < q.statuses.size(); ++i)
      st.bind(static_cast<int>(5 + i), q.statuses[i]);
    std::vector<Gap> out;
    int rc;
    while ((rc = st.step()) == SQLITE_ROW) {
      Gap g;
      g.id = st.i64(0);
      g.device = st.text(1);
      g.metric = st.text(2);
      g.from = from_ms(st.i64(3));
      g.to = from_ms(st.i64(4));
      g.reason = st.text(5);
      g.status = st.text(6);
      g.detail = st.text(7);
      g.filled = st.i64(8);
      g.attempts = static_cast<int>(st.i64(9));
      g.done_until = from_ms(st.i64(10));
      if (!st.null(11)) g.next_attempt = from_ms(st.i64(11));
      g.parent = st.null(12) ? 0 : st.i64(12);
      g.detected_at = from_ms(st.i64(13));
      g.updated_at = from_ms(st.i64(14));
      out.push_back(std::move(g));
    }
    if (rc != SQLITE_DONE) return fail(db_error(reader_, "read gaps"));
    return out;
  }

  // --- counter resets ----------------------------------------------------------------------

  Result<void> add_counter_reset(const CounterReset& c) override {
    std::lock_guard lock(write_mutex_);
    Stmt st(writer_,
            "INSERT OR IGNORE INTO counter_resets (device_id, metric, t, offset, raw_before, "
            "raw_after) VALUES (?,?,?,?,?,?)");
    st.bind(1, c.device).bind(2, c.metric).bind(3, to_ms(c.time)).bind(4, c.offset);
    st.bind(5, c.raw_before).bind(6, c.raw_after);
    if (st.step() != SQLITE_DONE) return fail(db_error(writer_, "insert counter reset"));
    return {};
  }

  Result<std::vector<CounterReset>> counter_resets(const std::string& device,
                                                   const std::string& metric) override {
    std::lock_guard lock(read_mutex_);
    Stmt st(reader_,
            "SELECT t, offset, raw_before, raw_after FROM counter_resets WHERE device_id = ? AND "
            "metric = ? ORDER BY t");
    st.bind(1, device).bind(2, metric);
    std::vector<CounterReset> out;
    int rc;
    while ((rc = st.step()) == SQLITE_ROW)
      out.push_back({device, metric, from_ms(st.i64(0)), st.f64(1), st.f64(2), st.f64(3)});
    if (rc != SQLITE_DONE) return fail(db_error(reader_, "read counter resets"));
    return out;
  }

  // --- leases ------------------------------------------------------------------------------

  Result<std::int64_t> add_lease(const Lease& l) override {
    std::lock_guard lock(write_mutex_);
    Stmt st(
        writer_,
        "INSERT INTO leases (command_id, device_id, command, value, argument, requested_by, "
        "started_at, until, state, ended_at, detail, restore) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)");
    st.bind(1, l.command).bind(2, l.device).bind(3, to_string(l.type)).bind(4, l.value);
    st.bind(5, l.argument).bind(6, l.requested_by).bind(7, to_ms(l.started_at));
    st.bind(8, to_ms(l.until)).bind(9, l.state);
    bind_time(st, 10, l.ended_at);
    st.bind(11, l.detail).bind(12, l.restore);
    if (st.step() != SQLITE_DONE) return fail(db_error(writer_, "insert lease"));
    return sqlite3_last_insert_rowid(writer_);
  }

  Result<void> update_lease(const Lease& l) override {
    std::lock_guard lock(write_mutex_);
    Stmt st(writer_,
            "UPDATE leases SET until = ?, state = ?, ended_at = ?, detail = ? WHERE id = ?");
    st.bind(1, to_ms(l.until)).bind(2, l.state);
    bind_time(st, 3, l.ended_at);
    st.bind(4, l.detail).bind(5, l.id);
    if (st.step() != SQLITE_DONE) return fail(db_error(writer_, "update lease"));
    if (sqlite3_changes(writer_) != 1)
      return fail(ErrorKind::NotFound, "lease " + std::to_string(l.id) + " is not recorded");
    return {};
  }

  Result<std::vector<Lease>> leases(bool active_only, std::size_t limit) override {
    std::lock_guard lock(read_mutex_);
    std::string sql =
        "SELECT id, command_id, device_id, command, value, argument, requested_by, started_at, "
        "until, state, ended_at, detail, restore FROM leases";
    if (active_only) sql += " WHERE state = 'active'";
    sql += " ORDER BY id DESC LIMIT ?1";
    Stmt st(reader_, sql.c_str());
    st.bind(1, static_cast<std::int64_t>(limit));
    std::vector<Lease> out;
    int rc;
    while ((rc = st.step()) == SQLITE_ROW) {
      Lease l;
      l.id = st.i64(0);
      l.command = st.i64(1);
      l.device = st.text(2);
      l.type = parse_command_type(st.text(3)).value_or(CommandType::BatteryPower);
      l.value = st.f64(4);
      l.argument = st.text(5);
      l.requested_by = st.text(6);
      l.started_at = from_ms(st.i64(7));
      l.until = from_ms(st.i64(8));
      l.state = st.text(9);
      if (!st.null(10)) l.ended_at = from_ms(st.i64(10));
      l.detail = st.text(11);
      l.restore = st.text(12);
      out.push_back(std::move(l));
    }
    if (rc != SQLITE_DONE) return fail(db_error(reader_, "read leases"));
    return out;
  }

  // --- events ------------------------------------------------------------------------------

  Result<void> add_events(const std::vector<Event>& events) override {
    if (events.empty()) return {};
    std::lock_guard lock(write_mutex_);
    if (auto r = exec(writer_, "BEGIN", "begin"); !r) return r;
    for (const auto& e : events) {
      auto& st = insert_event_.reset();
      st.bind(1, e.device).bind(2, to_ms(e.time)).bind(3, static_cast<std::int64_t>(e.severity));
      st.bind(4, e.code).bind(5, e.message);
      if (st.step() != SQLITE_DONE) {
        auto err = db_error(writer_, "insert event");
        (void)exec(writer_, "ROLLBACK", "rollback");
        return fail(err);
      }
    }
    return exec(writer_, "COMMIT", "commit");
  }

  Result<std::vector<Event>> events(const EventQuery& q) override {
    std::lock_guard lock(read_mutex_);
    std::string sql = "SELECT device_id, t, severity, code, message FROM events WHERE 1=1";
    if (q.device) sql += " AND device_id = ?1";
    if (!q.devices.empty()) sql += " AND device_id IN (" + placeholders(q.devices.size(), 5) + ")";
    if (q.range) sql += " AND t >= ?2 AND t < ?3";
    sql += " ORDER BY t DESC, id DESC LIMIT ?4";
    Stmt st(reader_, sql.c_str());
    if (!st.ok()) return fail(ErrorKind::Internal, "sqlite: events query: " + st.error());
    if (q.device) st.bind(1, *q.device);
    if (q.range) st.bind(2, to_ms(q.range->from)).bind(3, to_ms(q.range->to));
    st.bind(4, static_cast<std::int64_t>(q.limit));
    for (std::size_t i = 0; i < q.devices.size(); ++i)
      st.bind(static_cast<int>(5 + i), q.devices[i]);
    std::vector<Event> out;
    int rc;
    while ((rc = st.step()) == SQLITE_ROW)
      out.push_back({st.text(0), from_ms(st.i64(1)), static_cast<Severity>(st.i64(2)), st.text(3),
                     st.text(4)});
    if (rc != SQLITE_DONE) return fail(db_error(reader_, "read events"));
    return out;
  }

  // --- command audit -----------------------------------------------------------------------

  Result<std::int64_t> begin_command(const CommandRecord& c) override {
    std::lock_guard lock(write_mutex_);
    Stmt st(writer_,
            "INSERT INTO commands (requested_at, requested_by, device_id, command, value, "
            "duration_s, status, before_value, detail, argument) VALUES (?,?,?,?,?,?,?,?,?,?)");
    st.bind(1, to_ms(c.requested_at)).bind(2, c.requested_by).bind(3, c.device);
    st.bind(4, to_string(c.type)).bind(5, c.value).bind_opt(6, c.duration_s).bind(7, c.status);
    st.bind_opt(8, c.before).bind(9, c.detail).bind(10, c.argument);
    if (st.step() != SQLITE_DONE) return fail(db_error(writer_, "insert command"));
    return sqlite3_last_insert_rowid(writer_);
  }

  Result<void> finish_command(const CommandRecord& c) override {
    std::lock_guard lock(write_mutex_);
    Stmt st(writer_,
            "UPDATE commands SET finished_at = ?, status = ?, before_value = ?, after_value = ?, "
            "detail = ? WHERE id = ?");
    st.bind_opt(1,
                c.finished_at ? std::optional<std::int64_t>(to_ms(*c.finished_at)) : std::nullopt);
    st.bind(2, c.status).bind_opt(3, c.before).bind_opt(4, c.after).bind(5, c.detail).bind(6, c.id);
    if (st.step() != SQLITE_DONE) return fail(db_error(writer_, "update command"));
    if (sqlite3_changes(writer_) != 1)
      return fail(ErrorKind::NotFound, "command " + std::to_string(c.id) + " not in the audit");
    return {};
  }

  Result<std::int64_t> close_interrupted_commands(TimePoint now,
                                                  const std::string& detail) override {
    std::lock_guard lock(write_mutex_);
    Stmt st(writer_,
            "UPDATE commands SET status = 'interrupted', finished_at = ?, detail = ? "
            "WHERE status = 'pending'");
    st.bind(1, to_ms(now)).bind(2, detail);
    if (st.step() != SQLITE_DONE) return fail(db_error(writer_, "close interrupted commands"));
    return static_cast<std::int64_t>(sqlite3_changes(writer_));
  }

  Result<std::vector<CommandRecord>> commands(const CommandQuery& q) override {
    std::lock_guard lock(read_mutex_);
    std::string sql =
        "SELECT id, requested_at, finished_at, requested_by, device_id, command, value, "
        "duration_s, status, before_value, after_value, detail, argument FROM commands";
    if (!q.devices.empty())
      sql += " WHERE device_id IN (" + placeholders(q.devices.size(), 2) + ")";
    sql += " ORDER BY id DESC LIMIT ?1";
    Stmt st(reader_, sql.c_str());
    if (!st.ok()) return fail(ErrorKind::Internal, "sqlite: commands query: " + st.error());
    st.bind(1, static_cast<std::int64_t>(q.limit));
    for (std::size_t i = 0; i < q.devices.size(); ++i)
      st.bind(static_cast<int>(2 + i), q.devices[i]);
    std::vector<CommandRecord> out;
    int rc;
    while ((rc = st.step()) == SQLITE_ROW) {
      CommandRecord c;
      c.id = st.i64(0);
      c.requested_at = from_ms(st.i64(1));
      if (!st.null(2)) c.finished_at = from_ms(st.i64(2));
      c.requested_by = st.text(3);
      c.device = st.text(4);
      c.type = parse_command_type(st.text(5)).value_or(CommandType::BatteryPower);
      c.value = st.f64(6);
      if (!st.null(7)) c.duration_s = st.i64(7);
      c.status = st.text(8);
      if (!st.null(9)) c.before = st.f64(9);
      if (!st.null(10)) c.after = st.f64(10);
      c.detail = st.text(11);
      c.argument = st.text(12);
      out.push_back(std::move(c));
    }
    if (rc != SQLITE_DONE) return fail(db_error(reader_, "read commands"));
    return out;
  }

  Result<std::int64_t> prune(const Retention& r, TimePoint now, Millis budget) override {
    auto started = std::chrono::steady_clock::now();
    auto spent = [&] { return std::chrono::steady_clock::now() - started >= budget; };
    std::int64_t deleted = 0;
    std::lock_guard lock(write_mutex_);
    // A day of one series per statement: each short, so the writer's batches go between them.
    auto per_series = [&](const char* table, Millis keep) -> Result<void> {
      auto cutoff = to_ms(now - keep);
      std::string sql = std::string("DELETE FROM ") + table +
                        " WHERE series_id = ?1 AND t < min(?2, coalesce((SELECT min(t) FROM " +
                        table + " WHERE series_id = ?1), 0) + 86400000)";
      Stmt del(writer_, sql.c_str());
      Stmt ids(writer_, "SELECT id FROM series ORDER BY id");
      if (!del.ok() || !ids.ok())
        return fail(ErrorKind::Internal, "sqlite: prune: " + del.error() + ids.error());
      std::vector<std::int64_t> series;
      while (ids.step() == SQLITE_ROW) series.push_back(ids.i64(0));
      ids.reset();
      // A series with nothing to delete costs one indexed look; the slice ends after work.
      for (auto id : series)
        for (;;) {
          del.reset().bind(1, id).bind(2, cutoff);
          if (del.step() != SQLITE_DONE)
            return fail(db_error(writer_, "prune " + std::string(table)));
          auto n = sqlite3_changes(writer_);
          deleted += n;
          if (n == 0) break;
          if (spent()) return {};
        }
      return {};
    };
    if (r.samples)
      if (auto x = per_series("samples", *r.samples); !x) return fail(x.error());
    if (r.hourly && (deleted == 0 || !spent()))
      if (auto x = per_series("rollups_hour", *r.hourly); !x) return fail(x.error());
    if (r.events && (deleted == 0 || !spent())) {  // their turn once the samples are done
      Stmt del(writer_,
               "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE t < ?1 ORDER BY t "
               "LIMIT 5000)");
      del.bind(1, to_ms(now - *r.events));
      if (del.step() != SQLITE_DONE) return fail(db_error(writer_, "prune events"));
      deleted += sqlite3_changes(writer_);
    }
    pruned_ += static_cast<std::uint64_t>(deleted);
    return deleted;
  }

  StoreStats stats() const override {
    StoreStats s;
    {
      std::lock_guard lock(queue_mutex_);
      s.samples_written = written_.load();
      s.samples_dropped = dropped_;
      s.batches = batches_.load();
      s.queue_depth = queued_ + in_flight_;
      s.busy_retries = busy_retries_;
      s.last_error = last_error_;
    }
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

  void close() override {
    {
      std::lock_guard lock(queue_mutex_);
      if (closed_) return;
      closed_ = true;
      queue_cv_.notify_all();
    }
    if (writer_thread_.joinable()) writer_thread_.join();
    if (writer_) {
      std::lock_guard wl(write_mutex_);
      if (!dirty_.empty() && exec(writer_, "BEGIN", "begin")) {  // the hours still waiting
        if (roll_up({}, true))
          (void)exec(writer_, "COMMIT", "commit");
        else
          (void)exec(writer_, "ROLLBACK", "rollback");
      }
      (void)exec(writer_, "PRAGMA wal_checkpoint(PASSIVE);", "checkpoint");
    }
  }

 private:
  // Caller holds queue_mutex_. Counts samples as dropped and widens each device's stretch.
  void note_dropped_locked(const std::vector<Sample>& samples, const std::string& why) {
    dropped_ += samples.size();
    for (const auto& s : samples) {
      auto [it, fresh] = lost_.try_emplace(s.device);
      auto& d = it->second;
      if (fresh) {
        d.device = s.device;
        d.from = d.to = s.time;
      }
      d.from = std::min(d.from, s.time);
      d.to = std::max(d.to, s.time);
      d.samples++;
      d.reason = why;
    }
  }

  static void bind_time(Stmt& st, int i, const std::optional<TimePoint>& t) {
    if (t)
      st.bind(i, to_ms(*t));
    else
      st.bind_null(i);
  }

  // The sample of a series nearest to t on one side (`order`: the condition and direction).
  Result<std::optional<SeriesPoint>> neighbour(const std::string& device, const std::string& metric,
                                               TimePoint t, std::string_view order) {
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

  Result<void> migrate() {
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
        Stmt rec(writer_,
                 "INSERT INTO schema_migrations VALUES (?, ?, strftime('%s','now') * 1000)");
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

  bool prepare() {
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
    insert_series_ =
        Stmt(writer_, "INSERT OR IGNORE INTO series (device_id, metric) VALUES (?, ?)");
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

  template <class Rows>
  static std::vector<std::pair<std::int64_t, std::int64_t>> rows_hours(const Rows& rows) {
    std::vector<std::pair<std::int64_t, std::int64_t>> out;  // (series, hour), sorted rows
    for (const auto& r : rows) {
      auto hour = r.t - ((r.t % kHourMs) + kHourMs) % kHourMs;
      if (out.empty() || out.back() != std::pair{r.series, hour}) out.emplace_back(r.series, hour);
    }
    return out;
  }

  // Caller holds write_mutex_, inside the batch's transaction.
  Result<void> roll_up(const std::vector<std::pair<std::int64_t, std::int64_t>>& touched,
                       bool all) {
    auto now = std::chrono::steady_clock::now();
    for (const auto& [series, hour] : touched) {
      dirty_.try_emplace({series, hour}, now);
      auto& newest = newest_hour_[series];
      newest = std::max(newest, hour);
    }
    for (auto it = dirty_.begin(); it != dirty_.end();) {
      auto [series, hour] = it->first;
      auto rolled = rolled_at_.find(it->first);
      bool over = hour < newest_hour_[series];
      bool due = all || over || rolled == rolled_at_.end() ||
                 now - rolled->second >= std::chrono::minutes(1);
      if (!due) {
        ++it;
        continue;
      }
      auto& st = rollup_hour_.reset();
      st.bind(1, series).bind(2, hour);
      if (st.step() != SQLITE_DONE) return fail(db_error(writer_, "roll up an hour"));
      if (over)
        rolled_at_.erase(it->first);
      else
        rolled_at_[it->first] = now;
      it = dirty_.erase(it);
    }
    return {};
  }

  // Caller holds write_mutex_.
  Result<std::int64_t> series_id(const std::string& device, const std::string& metric) {
    auto key = series_key(device, metric);
    if (auto it = series_cache_.find(key); it != series_cache_.end()) return it->second;
    insert_series_.reset().bind(1, device).bind(2, metric);
    if (insert_series_.step() != SQLITE_DONE) return fail(db_error(writer_, "insert series"));
    find_series_w_.reset().bind(1, device).bind(2, metric);
    if (find_series_w_.step() != SQLITE_ROW) return fail(db_error(writer_, "find series"));
    std::int64_t id = find_series_w_.i64(0);
    find_series_w_.reset();  // a statement left on its row keeps a read transaction open
    series_cache_.emplace(std::move(key), id);
    return id;
  }

  // Caller holds write_mutex_. One transaction; rows sorted by key for B-tree locality. The
  // hours it touched are rolled up now when `roll_all`, when they are new or over (a later
  // hour of the series came), else at most once a minute: a poll every few seconds does not
  // rebuild the current hour each time.
  // Remembers whether the write that just failed met a database locked by someone else.
  void note_busy() {
    auto rc = sqlite3_errcode(writer_) & 0xff;
    last_busy_ = rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
  }

  Result<void> write_batch(const std::vector<Sample>& samples, bool roll_all = false) {
    if (samples.empty()) return {};
    if (auto r = exec(writer_, "BEGIN", "begin"); !r) {
      note_busy();
      return r;
    }
    struct Row {
      std::int64_t series, t;
      double value;
      int quality;
    };
    std::vector<Row> rows;
    rows.reserve(samples.size());
    Result<void> result;
    for (const auto& s : samples) {
      auto id = series_id(s.device, s.metric);
      if (!id) {
        result = fail(id.error());
        break;
      }
      rows.push_back({*id, to_ms(s.time), s.value, static_cast<int>(s.quality)});
    }
    if (result) {
      std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
        return std::tie(a.series, a.t) < std::tie(b.series, b.t);
      });
      for (const auto& r : rows) {
        auto& st = upsert_sample_.reset();
        st.bind(1, r.series)
            .bind(2, r.t)
            .bind(3, r.value)
            .bind(4, static_cast<std::int64_t>(r.quality));
        if (st.step() != SQLITE_DONE) {
          result = fail(db_error(writer_, "upsert sample"));
          break;
        }
      }
    }
    if (result) result = roll_up(rows_hours(rows), roll_all);
    if (!result) {
      note_busy();
      (void)exec(writer_, "ROLLBACK", "rollback");
      series_cache_.clear();  // ids created in the rolled-back transaction are gone
      return result;
    }
    if (auto r = exec(writer_, "COMMIT", "commit"); !r) {
      note_busy();
      (void)exec(writer_, "ROLLBACK", "rollback");
      series_cache_.clear();
      return r;
    }
    last_busy_ = false;
    ++batches_;
    return {};
  }

  void writer_loop() {
    for (;;) {
      std::vector<Sample> batch;
      std::uint64_t taken = 0;
      {
        std::unique_lock lock(queue_mutex_);
        queue_cv_.wait(lock, [&] { return !queue_.empty() || closed_; });
        if (queue_.empty() && closed_) break;
        while (!queue_.empty() && batch.size() < options_.max_batch) {
          ++taken;
          auto& front = queue_.front();
          if (batch.empty()) {
            batch = std::move(front);
          } else {
            batch.insert(batch.end(), std::make_move_iterator(front.begin()),
                         std::make_move_iterator(front.end()));
          }
          queue_.pop_front();
        }
        queued_ -= batch.size();
        in_flight_ = batch.size();
      }
      Result<void> r;
      bool waited = false;
      // A database another process holds (a backup, `sqlite3` open on it) is waited for: a lock
      // of 25 s lost 46 samples when three tries were all it got. Meanwhile the queue takes
      // what fits (the batch in flight counts against its capacity) and drops the rest. Any
      // other failure is given three tries.
      for (int attempt = 0;; ++attempt) {
        {
          std::lock_guard wl(write_mutex_);
          r = write_batch(batch);
        }
        if (r) break;
        bool busy = last_busy_.load();
        {
          std::lock_guard lock(queue_mutex_);
          if (closed_ || (!busy && attempt >= 3)) break;
          if (busy) {
            last_error_ = r.error().message;  // /health says so while it lasts
            ++busy_retries_;
          }
        }
        waited |= busy;
        std::this_thread::sleep_for(
            std::chrono::milliseconds(std::min(1000, 100 << std::min(attempt, 4))));
      }
      {
        std::lock_guard lock(queue_mutex_);
        in_flight_ = 0;
        done_batches_ += taken;
        if (r) {
          written_ += batch.size();
          if (waited) last_error_.clear();
        } else {
          note_dropped_locked(batch, r.error().message);
          last_error_ = r.error().message;
        }
        drained_cv_.notify_all();
      }
    }
    std::lock_guard lock(queue_mutex_);
    writer_running_ = false;
    drained_cv_.notify_all();
  }

  std::string path_;
  SqliteOptions options_;
  sqlite3* writer_ = nullptr;
  sqlite3* reader_ = nullptr;
  std::string prepare_error_;
  std::mutex write_mutex_;
  std::mutex read_mutex_;
  Stmt upsert_site_, upsert_device_, insert_series_, find_series_w_, find_series_r_, upsert_sample_,
      insert_event_, raw_history_, bucket_history_, rollup_history_, rollup_hour_;
  std::unordered_map<std::string, std::int64_t> series_cache_;
  static constexpr std::int64_t kHourMs = 3'600'000;
  // Hours written but not rolled up yet, since when; when the current hours were last rolled
  // up (a new hour at once, then at most once a minute); the newest hour written per series.
  std::map<std::pair<std::int64_t, std::int64_t>, std::chrono::steady_clock::time_point> dirty_;
  std::map<std::pair<std::int64_t, std::int64_t>, std::chrono::steady_clock::time_point> rolled_at_;
  std::unordered_map<std::int64_t, std::int64_t> newest_hour_;

  mutable std::mutex queue_mutex_;
  std::condition_variable queue_cv_, drained_cv_;
  std::deque<std::vector<Sample>> queue_;
  std::size_t queued_ = 0, in_flight_ = 0;
  std::uint64_t enqueued_batches_ = 0, done_batches_ = 0;
  bool memory_ = false;
  bool closed_ = false, writer_running_ = false;
  std::uint64_t dropped_ = 0, busy_retries_ = 0;
  std::map<std::string, DroppedSamples> lost_;  // by device, until the engine takes them
  std::atomic<bool> last_busy_{false};          // the last failed write met a locked database
  std::atomic<std::uint64_t> pruned_{0};
  std::atomic<std::uint64_t> written_{0}, batches_{0};
  std::string last_error_;
  std::thread writer_thread_;
};

}  // namespace

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
