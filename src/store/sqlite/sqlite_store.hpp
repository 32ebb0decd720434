// The SQLite store's one class, declared for its four files: sqlite_store.cpp (opening,
// migrations, statements, stats, closing), sqlite_writer.cpp (the write queue, its thread,
// rollups and retention), sqlite_queries.cpp (sites, devices and history reads) and
// sqlite_records.cpp (gaps, counter resets, leases, events and the command audit).
// Internal to the store: the rest of sunbridge sees store.hpp.
#pragma once

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/embedded.hpp"
#include "core/metric.hpp"
#include "store/queued_store.hpp"
#include "store/rollup_plan.hpp"
#include "store/store.hpp"

extern const sb::EmbeddedFile sb_migrations[];
extern const std::size_t sb_migrations_count;

namespace sb::store::sqlite {

// The hourly rollups of the samples `where` selects, written over what was there (migration
// 0003 builds them the same way).
inline std::string rollup_sql(std::string_view where) {
  return "INSERT OR REPLACE INTO rollups_hour "
         "SELECT a.series_id, a.h, a.n, a.total, a.lo, a.hi, s.value, a.q FROM "
         "(SELECT series_id, (t / 3600000) * 3600000 AS h, count(*) AS n, sum(value) AS total, "
         "min(value) AS lo, max(value) AS hi, max(t) AS mt, max(quality) AS q FROM samples "
         "WHERE " +
         std::string(where) +
         " GROUP BY series_id, h) AS a "
         "JOIN samples AS s ON s.series_id = a.series_id AND s.t = a.mt";
}

// A prepared statement that resets itself; columns and binds by 1-based index as SQLite has it.
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

inline Result<void> exec(sqlite3* db, const std::string& sql, std::string_view what) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    return fail(ErrorKind::Internal, "sqlite: " + std::string(what) + ": " + m);
  }
  return {};
}

inline Error db_error(sqlite3* db, std::string_view what) {
  return Error{ErrorKind::Internal, "sqlite: " + std::string(what) + ": " + sqlite3_errmsg(db)};
}

// Every row `st` steps to, each made into a T by `row()` (which reads `st`); an error names
// `what`.
template <class T, class Row>
Result<std::vector<T>> collect(Stmt& st, sqlite3* db, std::string_view what, Row row) {
  std::vector<T> out;
  int rc;
  while ((rc = st.step()) == SQLITE_ROW) out.push_back(row());
  if (rc != SQLITE_DONE) return fail(db_error(db, what));
  return out;
}

// "?3,?4,?5": `n` numbered parameters from `first`.
inline std::string placeholders(std::size_t n, int first) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i)
    out += (i ? ",?" : "?") + std::to_string(first + static_cast<int>(i));
  return out;
}

// The Store on one SQLite file (or a shared in-memory database): a writer connection fed by a
// queue and its own thread, a reader connection for queries, WAL on files.
class SqliteStore final : public QueuedStore {
 public:
  SqliteStore(std::string path, SqliteOptions options);
  ~SqliteStore() override;

  Result<void> open();

  // --- sites and devices -------------------------------------------------------------------

  Result<void> upsert_site(const Site& s) override;

  Result<void> upsert_device(const DeviceInfo& d, TimePoint seen) override;

  Result<std::vector<Site>> sites() override;

  Result<std::vector<DeviceInfo>> devices() override;

  // --- samples -----------------------------------------------------------------------------

  Result<std::vector<SeriesPoint>> history(const HistoryQuery& q) override;

  Result<std::vector<std::string>> metrics(const std::string& device) override;

  Result<std::optional<TimePoint>> last_sample_time(const std::string& device) override;

  Result<std::optional<SeriesPoint>> sample_at_or_before(const std::string& device,
                                                         const std::string& metric,
                                                         TimePoint t) override;
  Result<std::optional<SeriesPoint>> sample_at_or_after(const std::string& device,
                                                        const std::string& metric,
                                                        TimePoint t) override;

  // --- gaps --------------------------------------------------------------------------------

  Result<std::int64_t> add_gap(const Gap& g) override;

  Result<void> update_gap(const Gap& g) override;

  Result<std::vector<Gap>> gaps(const GapQuery& q) override;

  // --- counter resets ----------------------------------------------------------------------

  Result<void> add_counter_reset(const CounterReset& c) override;

  Result<std::vector<CounterReset>> counter_resets(const std::string& device,
                                                   const std::string& metric) override;

  // --- leases ------------------------------------------------------------------------------

  Result<std::int64_t> add_lease(const Lease& l) override;

  Result<void> update_lease(const Lease& l) override;

  Result<std::vector<Lease>> leases(bool active_only, std::size_t limit) override;

  // --- events ------------------------------------------------------------------------------

  Result<void> add_events(const std::vector<Event>& events) override;

  Result<std::vector<Event>> events(const EventQuery& q) override;

  // --- command audit -----------------------------------------------------------------------

  Result<std::int64_t> begin_command(const CommandRecord& c) override;

  Result<void> finish_command(const CommandRecord& c) override;

  Result<std::int64_t> close_interrupted_commands(
      TimePoint now, const std::string& detail,
      const std::vector<std::string>& connections) override;

  Result<std::vector<CommandRecord>> commands(const CommandQuery& q) override;

  Result<std::int64_t> prune(const Retention& r, TimePoint now, Millis budget) override;

  Result<std::vector<std::pair<std::string, std::int64_t>>> row_counts() override;

  StoreStats stats() const override;

  void close() override;

 private:
  static void bind_time(Stmt& st, int i, const std::optional<TimePoint>& t);

  // The sample of a series nearest to t on one side (`order`: the condition and direction).
  Result<std::optional<SeriesPoint>> neighbour(const std::string& device, const std::string& metric,
                                               TimePoint t, std::string_view order);

  Result<void> migrate();

  bool prepare();

  // Caller holds write_mutex_, inside the batch's transaction: notes the hours it touched and
  // rolls up those due (all waiting ones when `all`).
  Result<void> roll_up(const std::vector<SeriesHour>& touched, bool all);

  // Caller holds write_mutex_.
  Result<std::int64_t> series_id(const Sample& s);

  // Remembers whether the write that just failed met a database locked by someone else.
  void note_busy();

  // Caller holds write_mutex_. One transaction; rows sorted by key for B-tree locality. The
  // hours it touched are rolled up now when `roll_all`, else as the RollupPlan says: at once
  // when new or over, the current hour at most once a minute.
  Result<void> write_batch(const std::vector<Sample>& samples, bool roll_all) override;

  std::string path_;
  SqliteOptions options_;
  sqlite3* writer_ = nullptr;
  sqlite3* reader_ = nullptr;
  std::string prepare_error_;
  std::mutex read_mutex_;
  Stmt upsert_site_, upsert_device_, insert_series_, find_series_w_, find_series_r_, upsert_sample_,
      insert_event_, raw_history_, bucket_history_, rollup_history_, rollup_hour_;
  // Series ids by the samples' interned device and metric: a look-up hashes two pointers and
  // compares no string.
  SeriesMap<std::int64_t> series_cache_;
  RollupPlan plan_;
  std::vector<SeriesHour> rolled_in_txn_;  // rolled up in the open transaction: due again if
                                           // it is rolled back
  bool memory_ = false;
  std::atomic<bool> closed_{false};
  std::atomic<std::uint64_t> pruned_{0};
};

}  // namespace sb::store::sqlite
