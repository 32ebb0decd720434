// The storage interface. SQLite (embedded, the default for one home) and PostgreSQL (fleets:
// several workers on one database) implement the same logical schema. Calls block: call them off
// the I/O threads (net::run_blocking), except enqueue(), which never blocks.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/model.hpp"
#include "core/result.hpp"

namespace sb::store {

/// A series by its interned device and metric: what the writers' id caches are keyed by, so
/// that a sample's series is found by two pointers, with no string hashed or compared.
struct SeriesKey {
  Name device;
  Name metric;
  bool operator==(const SeriesKey&) const = default;
};
struct SeriesKeyHash {
  std::size_t operator()(const SeriesKey& k) const noexcept {
    return std::hash<Name>{}(k.device) * 0x9e3779b97f4a7c15ULL ^ std::hash<Name>{}(k.metric);
  }
};
template <class V>
using SeriesMap = std::unordered_map<SeriesKey, V, SeriesKeyHash>;

/// One point of a history answer: a raw sample, or a bucket when a step was asked for.
struct SeriesPoint {
  TimePoint time;    ///< sample time, or bucket start
  double value = 0;  ///< raw value; bucket: mean for gauges, last for counters
  double min = 0;
  double max = 0;
  std::int64_t count = 1;
  Quality quality = Quality::Measured;  ///< worst quality in the bucket
};

struct HistoryQuery {
  std::string device;
  std::string metric;
  TimeRange range;
  std::optional<Millis> step;  ///< bucket width; raw samples when absent
  std::size_t limit = 100'000;
};

struct EventQuery {
  std::optional<std::string> device;
  std::optional<TimeRange> range;
  std::size_t limit = 100;
  std::vector<std::string> devices;  ///< any of these (a site's); empty: no such filter
};

struct CommandQuery {
  std::vector<std::string> devices;  ///< audit rows of any of these; empty: every device
  std::size_t limit = 50;
  std::optional<std::int64_t> id;  ///< that row alone
};

struct GapQuery {
  std::optional<std::string> device;
  std::optional<TimeRange> range;     ///< gaps that overlap it
  std::vector<std::string> statuses;  ///< empty: every status
  std::size_t limit = 1000;
};

/// A reset of a device's lifetime counter: from `time` on, `offset` is added to what it reads.
struct CounterReset {
  std::string device;
  std::string metric;
  TimePoint time;
  double offset = 0;      ///< the total added from then on
  double raw_before = 0;  ///< the device's last reading before the reset
  double raw_after = 0;   ///< its first reading after
};

/// Samples of one device the store could not keep (the queue was full, or the database refused
/// the batch): the stretch they covered, for the engine to record as a gap.
struct DroppedSamples {
  std::string device;
  TimePoint from;  ///< the oldest dropped sample
  TimePoint to;    ///< the newest
  std::uint64_t samples = 0;
  std::string reason;  ///< why ("the database is locked", "store queue full", ...)
};

/// How long each kind of row is kept (nullopt: for ever).
struct Retention {
  std::optional<Millis> samples = std::chrono::days(365);  ///< raw samples
  std::optional<Millis> hourly;                            ///< hourly rollups
  std::optional<Millis> events = std::chrono::days(730);
};

struct StoreStats {
  std::uint64_t samples_written = 0;
  std::uint64_t samples_dropped = 0;  ///< not kept: the queue was full or the database refused
  std::uint64_t batches = 0;
  std::size_t queue_depth = 0;     ///< samples waiting for the writer
  std::uint64_t busy_retries = 0;  ///< writes that found the database locked by another process
  std::string last_error;
  std::int64_t database_bytes = 0;    ///< the file and its write-ahead log; 0 in memory
  std::int64_t disk_free_bytes = -1;  ///< free on the database's file system; -1: not known
  std::int64_t disk_total_bytes = -1;
  std::uint64_t pruned_rows = 0;  ///< deleted by retention since the start
};

class Store {
 public:
  virtual ~Store() = default;

  virtual Result<void> upsert_site(const Site& site) = 0;
  virtual Result<void> upsert_device(const DeviceInfo& device, TimePoint seen) = 0;
  virtual Result<std::vector<Site>> sites() = 0;
  virtual Result<std::vector<DeviceInfo>> devices() = 0;

  /// Hands samples to the writer thread; returns at once. Fails (and counts them as dropped)
  /// when the queue is full or the store is closed.
  virtual Result<void> enqueue(std::vector<Sample> samples) = 0;
  /// Writes samples now, in one transaction (backfill, CLI, tests).
  virtual Result<void> write_samples(const std::vector<Sample>& samples) = 0;
  /// Waits until every enqueued sample is written.
  virtual Result<void> flush() = 0;
  /// The stretches of `devices`' samples dropped since the last call (each device once, its
  /// oldest to newest dropped sample); they are forgotten here once taken. Never blocks.
  virtual std::vector<DroppedSamples> take_dropped(const std::vector<std::string>& devices) = 0;

  virtual Result<std::vector<SeriesPoint>> history(const HistoryQuery& query) = 0;
  /// Metrics stored for a device, sorted.
  virtual Result<std::vector<std::string>> metrics(const std::string& device) = 0;
  /// The time of the newest sample of any of the device's metrics; nullopt when it has none.
  virtual Result<std::optional<TimePoint>> last_sample_time(const std::string& device) = 0;
  /// The newest sample of a series at or before `t`, and the oldest at or after it.
  virtual Result<std::optional<SeriesPoint>> sample_at_or_before(const std::string& device,
                                                                 const std::string& metric,
                                                                 TimePoint t) = 0;
  virtual Result<std::optional<SeriesPoint>> sample_at_or_after(const std::string& device,
                                                                const std::string& metric,
                                                                TimePoint t) = 0;

  /// Records a gap; one already recorded for the device, metric and start is widened to the
  /// later end and keeps its id, which comes back.
  virtual Result<std::int64_t> add_gap(const Gap& gap) = 0;
  /// Rewrites a recorded gap's status, detail, progress and end (by id).
  virtual Result<void> update_gap(const Gap& gap) = 0;
  /// Gaps newest first.
  virtual Result<std::vector<Gap>> gaps(const GapQuery& query) = 0;

  /// Records a counter reset (the same device, metric and time again is kept as it is).
  virtual Result<void> add_counter_reset(const CounterReset& reset) = 0;
  /// The resets of one counter, oldest first.
  virtual Result<std::vector<CounterReset>> counter_resets(const std::string& device,
                                                           const std::string& metric) = 0;

  /// Records a lease as it starts; returns its id.
  virtual Result<std::int64_t> add_lease(const Lease& lease) = 0;
  /// Rewrites a lease's end, state and detail (by id).
  virtual Result<void> update_lease(const Lease& lease) = 0;
  /// Leases newest first: only the active ones when `active_only`.
  virtual Result<std::vector<Lease>> leases(bool active_only, std::size_t limit) = 0;

  /// Stores events; an event already stored (device, time, code) is kept as it is.
  virtual Result<void> add_events(const std::vector<Event>& events) = 0;
  virtual Result<std::vector<Event>> events(const EventQuery& query) = 0;

  /// Writes the audit row of a command as it starts; returns its id.
  virtual Result<std::int64_t> begin_command(const CommandRecord& record) = 0;
  /// Completes the row (status, before, after, detail, finished_at).
  virtual Result<void> finish_command(const CommandRecord& record) = 0;
  /// Audit rows newest first.
  virtual Result<std::vector<CommandRecord>> commands(const CommandQuery& query) = 0;
  /// Commands still "pending" when a gateway starts were cut off by the end of the process
  /// that ran them (a kill, a crash, a power cut): each becomes "interrupted", finished at
  /// `now`, with `detail` saying so. Returns how many. `connections` narrows it to the devices of
  /// those connections (a fleet worker taking over a dead worker's connections); empty: all.
  virtual Result<std::int64_t> close_interrupted_commands(
      TimePoint now, const std::string& detail, const std::vector<std::string>& connections) = 0;

  /// Deletes rows older than their retention, a little at a time: one call works for about
  /// `budget` (the writer waits no longer than that) and returns the rows it deleted; 0 when
  /// nothing is left to delete.
  virtual Result<std::int64_t> prune(const Retention& retention, TimePoint now, Millis budget) = 0;

  /// Rows per table (sites, devices, series, samples, rollups_hour, events, commands, gaps,
  /// leases, counter_resets), in that order: what `sunbridge migrate` compares.
  virtual Result<std::vector<std::pair<std::string, std::int64_t>>> row_counts() = 0;

  virtual StoreStats stats() const = 0;
  /// Flushes and closes; later calls fail.
  virtual void close() = 0;
};

struct SqliteOptions {
  std::size_t queue_capacity = 2'000'000;  ///< samples waiting for the writer, at most
  std::size_t max_batch = 50'000;          ///< samples per transaction
  bool synchronous_normal = true;          ///< WAL + synchronous=NORMAL (durable at checkpoints)
  /// How long one write waits for a database another process holds before it is tried again.
  std::chrono::milliseconds busy_timeout{5000};
};

/// Opens (creating if needed) and migrates a SQLite database. ":memory:" works for tests.
Result<std::unique_ptr<Store>> open_sqlite(const std::string& path, SqliteOptions options = {});

struct PostgresOptions {
  std::size_t queue_capacity = 2'000'000;  ///< samples waiting for the writer, at most
  std::size_t max_batch = 50'000;          ///< samples per transaction
  int months_ahead = 2;                    ///< sample partitions made ahead of the current month
};

/// Connects to PostgreSQL (a libpq connection string, "postgresql://user@host/db" or
/// "host=… dbname=…"), creates what is missing and runs the numbered migrations (one process
/// at a time under an advisory lock, so workers may start together). The password comes from
/// the string, PGPASSWORD or the libpq password file; messages never show it.
Result<std::unique_ptr<Store>> open_postgres(const std::string& conninfo,
                                             PostgresOptions options = {});

/// Whether `database` names a PostgreSQL database (postgresql:// or postgres://) rather than a
/// SQLite file.
bool is_postgres(std::string_view database);

/// What libpq finds wrong with a connection string ("invalid URI query parameter: …"), or
/// nothing.
std::optional<std::string> postgres_problem(const std::string& conninfo);

/// A connection string as it may be shown: its password replaced by "***".
std::string without_password(std::string_view conninfo);

/// Opens the store `database` names: a PostgreSQL URL, else a SQLite file.
Result<std::unique_ptr<Store>> open_store(const std::string& database);

/// The tables row_counts() counts, in its order.
inline constexpr const char* kCountedTables[] = {
    "sites",  "devices",  "series", "samples", "rollups_hour",
    "events", "commands", "gaps",   "leases",  "counter_resets"};

/// What a backup copied.
struct BackupReport {
  std::int64_t bytes = 0;
  std::int64_t samples = 0;
  std::int64_t pages = 0;
};

/// Copies the SQLite database at `database` to `to` with SQLite's online backup API while other
/// processes (a running gateway) go on writing: one read transaction, so the copy is the
/// database at one moment. Written beside `to` and renamed when whole and checked (PRAGMA
/// integrity_check); an existing `to` is refused unless `overwrite`.
Result<BackupReport> backup_sqlite(const std::string& database, const std::string& to,
                                   bool overwrite = false);

/// The schema version this build knows (SQLite's numbering; PostgreSQL's has its own).
int latest_schema_version();
int latest_postgres_schema_version();

}  // namespace sb::store
