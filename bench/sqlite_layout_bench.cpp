// Sample layouts in SQLite measured against each other on the same workload, with the store's
// settings (WAL, synchronous=NORMAL, prepared statements, one transaction a batch): what the
// hot-path issue's storage item chooses from (docs/storage.md). Not the store itself: the
// ceiling each layout gives a writer, and what a month of one series costs to read back.
//
//   series_time  today's table: key (series, time), each transaction's rows sorted by key as
//                the store sorts a batch, so a series' rows of a batch share a leaf.
//   time_series  rows appended in time order (key (time, series): the rightmost leaf), plus an
//                index (series, time) for the reads, which scatters as the table did.
//   blocks       the newest samples appended to a rowid table (rightmost leaf, no index), and
//                every closed hour of a series sealed into one row (series, hour) holding its
//                samples packed; a month of one series is 720 rows.
//   chunks       one row per series per transaction holding its samples of the transaction,
//                packed; a closed hour with several chunks merged into one.
//
// SB_CACHE sets PRAGMA cache_size (-65536: 64 MB) to see what the page cache changes.
//
// Workload: D devices of 14 series polled every 60 s for 30 days (D = 10: 6 million samples,
// D = 100: 60 million is too long here, so 100 devices write 3 days), 100 rounds a
// transaction (also 1 and 10 for two of them); then one series' month read back.
#include <benchmark/benchmark.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

constexpr int kSeriesPerDevice = 14;
constexpr std::int64_t kStepMs = 60'000;
constexpr std::int64_t kHourMs = 3'600'000;
constexpr std::int64_t kT0 = 1'763'683'200'000;  // a whole hour

struct Db {
  sqlite3* db = nullptr;
  explicit Db(const std::string& path) {
    for (auto s : {"", "-wal", "-shm"}) fs::remove(path + s);
    sqlite3_open(path.c_str(), &db);
    exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
    if (const char* c = std::getenv("SB_CACHE"))
      exec((std::string("PRAGMA cache_size=") + c).c_str());
  }
  ~Db() { sqlite3_close_v2(db); }
  void exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string e = err ? err : "?";
      sqlite3_free(err);
      throw std::runtime_error(std::string(sql) + ": " + e);
    }
  }
  sqlite3_stmt* prepare(const char* sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr) != SQLITE_OK)
      throw std::runtime_error(std::string(sql) + ": " + sqlite3_errmsg(db));
    return st;
  }
  void step_done(sqlite3_stmt* st) {
    if (sqlite3_step(st) != SQLITE_DONE) throw std::runtime_error(sqlite3_errmsg(db));
    sqlite3_reset(st);
  }
};

double value_of(std::int64_t series, std::int64_t t) {
  return static_cast<double>((series * 7919 + t / kStepMs) % 10'000) / 10;
}

// A packed sample of a block or chunk: (offset in ms: int32, value: double, quality: uint8),
// 13 bytes, in time order.
constexpr int kPacked = 13;
void append_packed(std::string& data, std::int32_t off, double v, std::uint8_t quality) {
  char rec[kPacked];
  std::memcpy(rec, &off, 4);
  std::memcpy(rec + 4, &v, 8);
  rec[12] = static_cast<char>(quality);
  data.append(rec, kPacked);
}

// Binds (a, b, v) to `st`'s first three parameters and runs it once: a sample row.
void insert_row(Db& db, sqlite3_stmt* st, std::int64_t a, std::int64_t b, double v) {
  sqlite3_bind_int64(st, 1, a);
  sqlite3_bind_int64(st, 2, b);
  sqlite3_bind_double(st, 3, v);
  db.step_done(st);
}

// Binds (series, t, n, data) and runs `st` once: a block or chunk row.
void insert_packed(Db& db, sqlite3_stmt* st, std::int64_t series, std::int64_t t, int n,
                   const std::string& data) {
  sqlite3_bind_int64(st, 1, series);
  sqlite3_bind_int64(st, 2, t);
  sqlite3_bind_int(st, 3, n);
  sqlite3_bind_blob(st, 4, data.data(), static_cast<int>(data.size()), SQLITE_STATIC);
  db.step_done(st);
}

// What `st` gives for (series, from, to): the samples' count and the sum of their values. Its
// rows are values, or (when `packed`) pairs (n, packed data).
std::pair<std::int64_t, double> scan(sqlite3_stmt* st, int series, std::int64_t from,
                                     std::int64_t to, bool packed) {
  sqlite3_bind_int64(st, 1, series);
  sqlite3_bind_int64(st, 2, from);
  sqlite3_bind_int64(st, 3, to);
  std::int64_t n = 0;
  double sum = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (!packed) {
      ++n;
      sum += sqlite3_column_double(st, 0);
      continue;
    }
    int k = sqlite3_column_int(st, 0);
    auto* p = static_cast<const char*>(sqlite3_column_blob(st, 1));
    for (int i = 0; i < k; ++i) {
      double v;
      std::memcpy(&v, p + i * kPacked + 4, 8);
      sum += v;
    }
    n += k;
  }
  sqlite3_reset(st);
  return {n, sum};
}

// One layout: how a round of samples goes in, what closes an hour, how a range is read.
class Layout {
 public:
  virtual ~Layout() = default;
  virtual void round(std::int64_t t, int series) = 0;
  virtual void hour_closed(std::int64_t /*hour*/, int /*series*/) {}
  /// Before each COMMIT: what a layout keeps until then goes in.
  virtual void commit() {}
  /// Samples of `series` in [from, to): their count, and the sum of their values.
  virtual std::pair<std::int64_t, double> read(int series, std::int64_t from, std::int64_t to) = 0;
};

class SeriesTime final : public Layout {
 public:
  /// The store sorts each batch by key before it writes: a series' rows of the batch go in
  /// together, into one leaf.
  explicit SeriesTime(Db& db) : db_(db) {
    db.exec(
        "CREATE TABLE samples (series_id INTEGER NOT NULL, t INTEGER NOT NULL, value REAL NOT "
        "NULL, quality INTEGER NOT NULL, PRIMARY KEY (series_id, t)) WITHOUT ROWID");
    ins_ = db.prepare("INSERT INTO samples VALUES (?,?,?,0)");
    sel_ = db.prepare("SELECT value FROM samples WHERE series_id = ? AND t >= ? AND t < ?");
  }
  ~SeriesTime() override {
    sqlite3_finalize(ins_);
    sqlite3_finalize(sel_);
  }
  void round(std::int64_t t, int series) override {
    if (times_.empty()) series_ = series;
    times_.push_back(t);
  }
  void commit() override {
    for (int s = 0; s < series_; ++s)
      for (auto t : times_) insert_row(db_, ins_, s, t, value_of(s, t));
    times_.clear();
  }
  std::pair<std::int64_t, double> read(int series, std::int64_t from, std::int64_t to) override {
    return scan(sel_, series, from, to, false);
  }

 private:
  Db& db_;
  sqlite3_stmt *ins_, *sel_;
  std::vector<std::int64_t> times_;
  int series_ = 0;
};

class TimeSeries final : public Layout {
 public:
  explicit TimeSeries(Db& db) : db_(db) {
    db.exec(
        "CREATE TABLE samples (t INTEGER NOT NULL, series_id INTEGER NOT NULL, value REAL NOT "
        "NULL, quality INTEGER NOT NULL, PRIMARY KEY (t, series_id)) WITHOUT ROWID;"
        "CREATE INDEX samples_by_series ON samples (series_id, t)");
    ins_ = db.prepare("INSERT INTO samples VALUES (?,?,?,0)");
    sel_ = db.prepare(
        "SELECT value FROM samples INDEXED BY samples_by_series WHERE series_id = ? AND t >= ? "
        "AND t < ?");
  }
  ~TimeSeries() override {
    sqlite3_finalize(ins_);
    sqlite3_finalize(sel_);
  }
  void round(std::int64_t t, int series) override {
    for (int s = 0; s < series; ++s) insert_row(db_, ins_, t, s, value_of(s, t));
  }
  std::pair<std::int64_t, double> read(int series, std::int64_t from, std::int64_t to) override {
    return scan(sel_, series, from, to, false);
  }

 private:
  Db& db_;
  sqlite3_stmt *ins_, *sel_;
};

// A block: the hour's samples of one series, packed (append_packed), offsets from the hour.
class Blocks final : public Layout {
 public:
  explicit Blocks(Db& db) : db_(db) {
    db.exec(
        "CREATE TABLE recent (series_id INTEGER NOT NULL, t INTEGER NOT NULL, value REAL NOT "
        "NULL, quality INTEGER NOT NULL);"
        "CREATE TABLE blocks (series_id INTEGER NOT NULL, hour INTEGER NOT NULL, n INTEGER NOT "
        "NULL, data BLOB NOT NULL, PRIMARY KEY (series_id, hour)) WITHOUT ROWID");
    ins_ = db.prepare("INSERT INTO recent VALUES (?,?,?,0)");
    seal_ = db.prepare("INSERT INTO blocks VALUES (?,?,?,?)");
    gather_ = db.prepare(
        "SELECT series_id, t, value, quality FROM recent WHERE t >= ?1 AND t < ?1 + 3600000 "
        "ORDER BY series_id, t");
    drop_ = db.prepare("DELETE FROM recent WHERE t < ?");
    sel_blocks_ =
        db.prepare("SELECT n, data FROM blocks WHERE series_id = ? AND hour >= ? AND hour < ?");
    sel_recent_ = db.prepare("SELECT value FROM recent WHERE series_id = ? AND t >= ? AND t < ?");
  }
  ~Blocks() override {
    for (auto* st : {ins_, seal_, gather_, drop_, sel_blocks_, sel_recent_}) sqlite3_finalize(st);
  }
  void round(std::int64_t t, int series) override {
    for (int s = 0; s < series; ++s) insert_row(db_, ins_, s, t, value_of(s, t));
  }
  // The hour's rows, read back in series order (a sort of one hour), sealed and deleted.
  void hour_closed(std::int64_t hour, int) override {
    sqlite3_bind_int64(gather_, 1, hour);
    std::int64_t current = -1;
    std::string packed;
    int n = 0;
    auto seal = [&] {
      if (current < 0) return;
      insert_packed(db_, seal_, current, hour, n, packed);
      packed.clear();
      n = 0;
    };
    while (sqlite3_step(gather_) == SQLITE_ROW) {
      auto s = sqlite3_column_int64(gather_, 0);
      if (s != current) {
        seal();
        current = s;
      }
      append_packed(packed, static_cast<std::int32_t>(sqlite3_column_int64(gather_, 1) - hour),
                    sqlite3_column_double(gather_, 2),
                    static_cast<std::uint8_t>(sqlite3_column_int(gather_, 3)));
      ++n;
    }
    sqlite3_reset(gather_);
    seal();
    sqlite3_bind_int64(drop_, 1, hour + kHourMs);
    db_.step_done(drop_);
  }
  std::pair<std::int64_t, double> read(int series, std::int64_t from, std::int64_t to) override {
    // Whole hours from the blocks (the bench reads whole hours), the open one from `recent`.
    auto [n, sum] = scan(sel_blocks_, series, from, to, true);
    auto [rn, rs] = scan(sel_recent_, series, from, to, false);
    return {n + rn, sum + rs};
  }

 private:
  Db& db_;
  sqlite3_stmt *ins_, *seal_, *gather_, *drop_, *sel_blocks_, *sel_recent_;
};

// Chunks: a transaction writes one row per series holding that series' samples of the
// transaction, packed as a block is; the hour's chunks become one block when it closes. Rows
// per sample: one per transaction's worth of a series, not one per sample.
class Chunks final : public Layout {
 public:
  explicit Chunks(Db& db) : db_(db) {
    db.exec(
        "CREATE TABLE chunks (series_id INTEGER NOT NULL, t INTEGER NOT NULL, n INTEGER NOT "
        "NULL, data BLOB NOT NULL, PRIMARY KEY (series_id, t)) WITHOUT ROWID");
    ins_ = db.prepare("INSERT INTO chunks VALUES (?,?,?,?)");
    hour_ = db.prepare(
        "SELECT n, data FROM chunks WHERE series_id = ?1 AND t >= ?2 AND t < ?2 + 3600000");
    drop_ = db.prepare("DELETE FROM chunks WHERE series_id = ?1 AND t >= ?2 AND t < ?2 + 3600000");
    sel_ = db.prepare("SELECT n, data FROM chunks WHERE series_id = ? AND t >= ? AND t < ?");
  }
  ~Chunks() override {
    for (auto* st : {ins_, hour_, drop_, sel_}) sqlite3_finalize(st);
  }
  void round(std::int64_t t, int series) override {
    if (open_.size() < static_cast<std::size_t>(series)) open_.resize(series);
    for (int s = 0; s < series; ++s) {
      auto& c = open_[s];
      if (c.n == 0) c.first = t;
      append_packed(c.data, static_cast<std::int32_t>(t - c.first), value_of(s, t), 0);
      ++c.n;
    }
  }
  void commit() override {
    for (std::size_t s = 0; s < open_.size(); ++s) {
      auto& c = open_[s];
      if (c.n == 0) continue;
      write(static_cast<int>(s), c.first, c.n, c.data);
      c = {};
    }
  }
  void hour_closed(std::int64_t hour, int series) override {
    std::string block;
    for (int s = 0; s < series; ++s) {
      sqlite3_bind_int64(hour_, 1, s);
      sqlite3_bind_int64(hour_, 2, hour);
      int n = 0, chunks = 0;
      block.clear();
      while (sqlite3_step(hour_) == SQLITE_ROW) {
        ++chunks;
        n += sqlite3_column_int(hour_, 0);
        block.append(static_cast<const char*>(sqlite3_column_blob(hour_, 1)),
                     static_cast<std::size_t>(sqlite3_column_bytes(hour_, 1)));
      }
      sqlite3_reset(hour_);
      if (chunks < 2) continue;  // already one row
      sqlite3_bind_int64(drop_, 1, s);
      sqlite3_bind_int64(drop_, 2, hour);
      db_.step_done(drop_);
      // (A real block would rebase its offsets on the hour; the bench keeps the chunks' bytes.)
      write(s, hour, n, block);
    }
  }
  std::pair<std::int64_t, double> read(int series, std::int64_t from, std::int64_t to) override {
    return scan(sel_, series, from, to, true);
  }

 private:
  struct Open {
    std::int64_t first = 0;
    int n = 0;
    std::string data;
  };
  void write(int series, std::int64_t t, int n, const std::string& data) {
    insert_packed(db_, ins_, series, t, n, data);
  }
  Db& db_;
  sqlite3_stmt *ins_, *hour_, *drop_, *sel_;
  std::vector<Open> open_;
};

template <class L>
void run(benchmark::State& state) {
  const int devices = static_cast<int>(state.range(0));
  const int days = static_cast<int>(state.range(1));
  const std::int64_t per_txn = state.range(2);  // poll rounds a transaction
  const int series = devices * kSeriesPerDevice;
  const std::int64_t rounds = days * 86'400'000LL / kStepMs;
  auto path = (fs::temp_directory_path() / "sunbridge-layout-bench.db").string();
  for (auto _ : state) {
    Db db(path);
    L layout(db);
    auto started = std::chrono::steady_clock::now();
    db.exec("BEGIN");
    for (std::int64_t r = 0; r < rounds; ++r) {
      std::int64_t t = kT0 + r * kStepMs;
      layout.round(t, series);
      bool hour_ends = (r + 1) % (kHourMs / kStepMs) == 0;
      if (hour_ends || (r + 1) % per_txn == 0) layout.commit();
      if (hour_ends) layout.hour_closed(t / kHourMs * kHourMs, series);
      if ((r + 1) % per_txn == 0) {
        db.exec("COMMIT");
        db.exec("BEGIN");
      }
    }
    layout.commit();
    db.exec("COMMIT");
    double write_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    // The month (or the days written) of one series in the middle, read ten times.
    started = std::chrono::steady_clock::now();
    std::pair<std::int64_t, double> got;
    for (int i = 0; i < 10; ++i) got = layout.read(series / 2, kT0, kT0 + days * 86'400'000LL);
    double read_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() / 10;
    if (got.first != rounds) state.SkipWithError("the read did not give every sample back");
    state.counters["samples/s"] = static_cast<double>(rounds * series) / write_s;
    state.counters["read_ms"] = read_s * 1000;
    state.counters["db_MB"] = static_cast<double>(fs::file_size(path)) / 1e6;
  }
  for (auto s : {"", "-wal", "-shm"}) fs::remove(path + s);
}

void BM_LayoutSeriesTime(benchmark::State& s) {
  run<SeriesTime>(s);
}
void BM_LayoutTimeSeries(benchmark::State& s) {
  run<TimeSeries>(s);
}
void BM_LayoutBlocks(benchmark::State& s) {
  run<Blocks>(s);
}
void BM_LayoutChunks(benchmark::State& s) {
  run<Chunks>(s);
}

}  // namespace

// {devices, days, poll rounds a transaction}: ten devices over a month (6 million samples), a
// hundred over three days; today's layout and chunks also with a transaction every round (the
// gateway's steady state: one sample of each series a transaction) and every ten, for twenty
// devices over three days (a hundred took minutes each: docs/storage.md has those figures).
void layouts(benchmark::internal::Benchmark* b) {
  b->Args({10, 30, 100})->Args({100, 3, 100})->Iterations(1)->Unit(benchmark::kSecond);
}
void layouts_and_small_transactions(benchmark::internal::Benchmark* b) {
  layouts(b);
  b->Args({20, 3, 1})->Args({20, 3, 10});
}
BENCHMARK(BM_LayoutSeriesTime)->Apply(layouts_and_small_transactions);
BENCHMARK(BM_LayoutTimeSeries)->Apply(layouts);
BENCHMARK(BM_LayoutBlocks)->Apply(layouts);
BENCHMARK(BM_LayoutChunks)->Apply(layouts_and_small_transactions);
BENCHMARK_MAIN();
