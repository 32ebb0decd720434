// The SQLite store's writer: the queue, its thread, batches, hourly rollups and retention.
#include "store/sqlite/sqlite_store.hpp"

namespace sb::store::sqlite {

Result<std::int64_t> SqliteStore::prune(const Retention& r, TimePoint now, Millis budget) {
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

Result<void> SqliteStore::roll_up(const std::vector<SeriesHour>& touched, bool all) {
  auto now = std::chrono::steady_clock::now();
  plan_.touched(touched, now);
  auto due = plan_.take_due(now, all);
  for (const auto& [series, hour] : due) {
    auto& st = rollup_hour_.reset();
    st.bind(1, series).bind(2, hour);
    if (st.step() != SQLITE_DONE) {
      plan_.retry(due, now);
      return fail(db_error(writer_, "roll up an hour"));
    }
  }
  rolled_in_txn_ = std::move(due);
  return {};
}

Result<std::int64_t> SqliteStore::series_id(const Sample& s) {
  SeriesKey key{s.device, s.metric};
  if (auto it = series_cache_.find(key); it != series_cache_.end()) return it->second;
  insert_series_.reset().bind(1, s.device.str()).bind(2, s.metric.str());
  if (insert_series_.step() != SQLITE_DONE) return fail(db_error(writer_, "insert series"));
  find_series_w_.reset().bind(1, s.device.str()).bind(2, s.metric.str());
  if (find_series_w_.step() != SQLITE_ROW) return fail(db_error(writer_, "find series"));
  std::int64_t id = find_series_w_.i64(0);
  find_series_w_.reset();  // a statement left on its row keeps a read transaction open
  series_cache_.emplace(key, id);
  return id;
}

void SqliteStore::note_busy() {
  auto rc = sqlite3_errcode(writer_) & 0xff;
  wait_out_ = rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
}

Result<void> SqliteStore::write_batch(const std::vector<Sample>& samples, bool roll_all) {
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
    auto id = series_id(s);
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
  if (result) result = roll_up(hours_of(rows), roll_all);
  if (!result) {
    note_busy();
    (void)exec(writer_, "ROLLBACK", "rollback");
    series_cache_.clear();  // ids created in the rolled-back transaction are gone
    plan_.retry(std::exchange(rolled_in_txn_, {}), std::chrono::steady_clock::now());
    return result;
  }
  if (auto r = exec(writer_, "COMMIT", "commit"); !r) {
    note_busy();
    (void)exec(writer_, "ROLLBACK", "rollback");
    series_cache_.clear();
    plan_.retry(std::exchange(rolled_in_txn_, {}), std::chrono::steady_clock::now());
    return r;
  }
  rolled_in_txn_.clear();
  wait_out_ = false;
  return {};
}

}  // namespace sb::store::sqlite
