// The PostgreSQL store's one class, declared for its files: pg_store.cpp (connecting,
// migrations, partitions, stats, closing), pg_writer.cpp (batches by COPY and one merge, hourly
// rollups, retention), pg_queries.cpp (sites, devices, history) and pg_records.cpp (gaps,
// counter resets, leases, events, the command audit). The same logical schema as SQLite's;
// samples are range-partitioned by month. Internal to the store: the rest sees store.hpp.
#pragma once

#include <atomic>
#include <charconv>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/embedded.hpp"
#include "store/postgres/libpq.hpp"  // libpq by its own names, loaded on first use
#include "store/queued_store.hpp"
#include "store/rollup_plan.hpp"
#include "store/store.hpp"

extern const sb::EmbeddedFile sb_pg_migrations[];
extern const std::size_t sb_pg_migrations_count;

namespace sb::store::postgres {

// Advisory locks every worker takes: one migrates at a time; partitions are made and dropped
// one at a time.
inline constexpr std::int64_t kMigrationLock = 0x5375'6e62'7269'6467;  // "Sunbridg"
inline constexpr std::int64_t kPartitionLock = kMigrationLock + 1;

// Sample partitions are months of UTC: samples_YYYY_MM holds [month_start, next_month).
std::int64_t month_start(std::int64_t ms);
std::int64_t next_month(std::int64_t start);
std::string partition_name(std::int64_t start);
/// The month a partition's name stands for; nullopt for a name that is not one of ours.
std::optional<std::int64_t> partition_start(const std::string& name);

// A result that clears itself; rows and columns from 0, as libpq has them.
class Res {
 public:
  explicit Res(PGresult* r = nullptr) : r_(r) {}
  Res(Res&& o) noexcept : r_(std::exchange(o.r_, nullptr)) {}
  Res& operator=(Res&& o) noexcept {
    std::swap(r_, o.r_);
    return *this;
  }
  ~Res() { PQclear(r_); }

  bool ok() const {
    auto s = PQresultStatus(r_);
    return r_ && (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK || s == PGRES_COPY_IN);
  }
  int rows() const { return PQntuples(r_); }
  bool null(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
  std::string text(int row, int col) const {
    return std::string(PQgetvalue(r_, row, col),
                       static_cast<std::size_t>(PQgetlength(r_, row, col)));
  }
  std::int64_t i64(int row, int col) const {
    std::int64_t v = 0;
    const char* p = PQgetvalue(r_, row, col);
    std::from_chars(p, p + PQgetlength(r_, row, col), v);
    return v;
  }
  double f64(int row, int col) const {
    double v = 0;
    const char* p = PQgetvalue(r_, row, col);
    std::from_chars(p, p + PQgetlength(r_, row, col), v);
    return v;
  }
  /// Rows an INSERT, UPDATE or DELETE touched.
  std::int64_t affected() const {
    std::int64_t v = 0;
    const char* p = PQcmdTuples(r_);
    std::from_chars(p, p + std::char_traits<char>::length(p), v);
    return v;
  }
  /// The five-character SQLSTATE of a failure ("" when there is none).
  std::string state() const {
    const char* s = r_ ? PQresultErrorField(r_, PG_DIAG_SQLSTATE) : nullptr;
    return s ? s : "";
  }
  PGresult* get() const { return r_; }

 private:
  PGresult* r_;
};

// Statement parameters in libpq's text form ($1, $2, … in the order added); nullopt is NULL.
class Params {
 public:
  Params& add(std::string_view s) {
    v_.emplace_back(std::string(s));
    return *this;
  }
  Params& add(const char* s) { return add(std::string_view(s)); }
  Params& add(const std::string& s) { return add(std::string_view(s)); }
  Params& add(std::int64_t n) {
    v_.emplace_back(std::to_string(n));
    return *this;
  }
  Params& add(int n) { return add(static_cast<std::int64_t>(n)); }
  Params& add(double d);
  template <class T>
  Params& add(const std::optional<T>& v) {
    if (v) return add(*v);
    v_.emplace_back(std::nullopt);
    return *this;
  }
  Params& add_time(TimePoint t) { return add(to_ms(t)); }
  Params& add_time(const std::optional<TimePoint>& t) {
    return add(t ? std::optional<std::int64_t>(to_ms(*t)) : std::nullopt);
  }
  std::vector<const char*> pointers() const {
    std::vector<const char*> out;
    for (const auto& v : v_) out.push_back(v ? v->c_str() : nullptr);
    return out;
  }
  int size() const { return static_cast<int>(v_.size()); }

 private:
  std::vector<std::optional<std::string>> v_;
};

// Each row of a result made into a T by `row(res, i)`.
template <class T, class Row>
std::vector<T> rows_of(const Res& r, Row row) {
  std::vector<T> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back(row(r, i));
  return out;
}

// A text[] literal for a parameter: {"a","b"} with quotes and backslashes escaped.
inline std::string text_array(const std::vector<std::string>& v) {
  std::string out = "{";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : v[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

// One connection: statements with their errors named, COPY, and whether it is lost.
class Conn {
 public:
  Conn() = default;
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  ~Conn() { PQfinish(c_); }

  /// Connects; `setup` runs on every session, this one and each made again after a loss (a
  /// server restart ends temporary tables with the session).
  Result<void> connect(const std::string& conninfo, const std::string& shown,
                       std::string setup = "");
  /// A lost connection is made again, with its setup; true when it is usable.
  bool usable();
  Result<Res> run(const std::string& sql, std::string_view what, const Params& p = {});
  Result<void> exec(const std::string& sql, std::string_view what, const Params& p = {}) {
    auto r = run(sql, what, p);
    if (!r) return fail(r.error());
    return {};
  }
  /// COPY … FROM STDIN with `data` in COPY's text format.
  Result<void> copy_in(const std::string& sql, std::string_view data, std::string_view what);
  /// Whether the last failure was one worth waiting out: the connection lost, the server
  /// shutting down or starting, a deadlock or a lock not available.
  bool transient() const { return transient_; }
  /// The SQLSTATE of the last failure ("" when it had none: a lost connection).
  const std::string& last_state() const { return last_state_; }
  /// libpq's handle (LISTEN: its socket and notifications).
  PGconn* raw() const { return c_; }

 private:
  Error error(std::string_view what, const Res* r);

  Result<void> set_up();

  PGconn* c_ = nullptr;
  std::string shown_, setup_;
  bool transient_ = false;
  std::string last_state_;
};

/// Runs the numbered migrations that `c`'s database lacks, one process at a time (an advisory
/// lock); refuses a database newer than this build. `shown` names it in messages.
Result<void> migrate(Conn& c, const std::string& shown);

// The Store on PostgreSQL: a writer connection fed by the shared queue, a reader connection
// for queries. Several processes (fleet workers) may share one database.
class PgStore final : public QueuedStore {
 public:
  PgStore(std::string conninfo, PostgresOptions options);
  ~PgStore() override;

  Result<void> open();

  Result<void> upsert_site(const Site& s) override;
  Result<void> upsert_device(const DeviceInfo& d, TimePoint seen) override;
  Result<std::vector<Site>> sites() override;
  Result<std::vector<DeviceInfo>> devices() override;

  Result<std::vector<SeriesPoint>> history(const HistoryQuery& q) override;
  Result<std::vector<std::string>> metrics(const std::string& device) override;
  Result<std::optional<TimePoint>> last_sample_time(const std::string& device) override;
  Result<std::optional<SeriesPoint>> sample_at_or_before(const std::string& device,
                                                         const std::string& metric,
                                                         TimePoint t) override;
  Result<std::optional<SeriesPoint>> sample_at_or_after(const std::string& device,
                                                        const std::string& metric,
                                                        TimePoint t) override;

  Result<std::int64_t> add_gap(const Gap& g) override;
  Result<void> update_gap(const Gap& g) override;
  Result<std::vector<Gap>> gaps(const GapQuery& q) override;

  Result<void> add_counter_reset(const CounterReset& c) override;
  Result<std::vector<CounterReset>> counter_resets(const std::string& device,
                                                   const std::string& metric) override;

  Result<std::int64_t> add_lease(const Lease& l) override;
  Result<void> update_lease(const Lease& l) override;
  Result<std::vector<Lease>> leases(bool active_only, std::size_t limit) override;

  Result<void> add_events(const std::vector<Event>& events) override;
  Result<std::vector<Event>> events(const EventQuery& q) override;

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
  // Caller holds write_mutex_. The monthly partitions that hold [from, to] exist afterwards
  // (each made once, under an advisory lock that other workers take too).
  Result<void> ensure_partitions(std::int64_t from_ms, std::int64_t to_ms);
  // Caller holds write_mutex_, inside the batch's transaction. The series of these (device,
  // metric) pairs, none of them known yet, made (or found, made by another worker) in one
  // statement and known afterwards.
  Result<void> make_series(const std::vector<SeriesKey>& keys);
  Result<void> roll_up(const std::vector<SeriesHour>& touched, bool all);
  // Caller holds write_mutex_. One transaction: COPY into the samples (or, when the batch meets
  // stored ones, into the staging table and one merge that keeps the better quality), the
  // rollups that are due.
  Result<void> write_batch(const std::vector<Sample>& samples, bool roll_all) override;
  Result<std::optional<SeriesPoint>> neighbour(const std::string& device, const std::string& metric,
                                               TimePoint t, std::string_view order);
  // A query of the reader's, its rows made into T by `row(res, i)`.
  template <class T, class Row>
  Result<std::vector<T>> collect(const std::string& sql, const Params& p, std::string_view what,
                                 Row row) {
    std::lock_guard lock(read_mutex_);
    auto r = reader_.run(sql, what, p);
    if (!r) return fail(r.error());
    return rows_of<T>(*r, row);
  }

  std::string conninfo_;
  std::string shown_;  // the connection string without its password, for messages
  PostgresOptions options_;
  Conn writer_;
  mutable Conn reader_;  // stats() asks it for the database size
  mutable std::mutex read_mutex_;
  SeriesMap<std::int64_t> series_cache_;  // by the samples' interned names
  std::set<std::int64_t> partitions_;     // months (start in UTC ms) known to exist
  RollupPlan plan_;
  std::vector<SeriesHour> rolled_in_txn_;
  std::atomic<bool> closed_{false};
  std::atomic<std::uint64_t> pruned_{0};
};

}  // namespace sb::store::postgres
