// The SQLite store's writer: the queue, its thread, batches, hourly rollups and retention.
#include "store/sqlite/sqlite_store.hpp"

namespace sb::store::sqlite {

Result<void> SqliteStore::enqueue(std::vector<Sample> samples) {
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

Result<void> SqliteStore::write_samples(const std::vector<Sample>& samples) {
  std::lock_guard lock(write_mutex_);
  auto r = write_batch(samples, true);
  if (r) written_ += samples.size();
  return r;
}

Result<void> SqliteStore::flush() {
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

std::vector<DroppedSamples> SqliteStore::take_dropped(const std::vector<std::string>& devices) {
  std::lock_guard lock(queue_mutex_);
  std::vector<DroppedSamples> out;
  for (const auto& d : devices)
    if (auto it = lost_.find(d); it != lost_.end()) {
      out.push_back(std::move(it->second));
      lost_.erase(it);
    }
  return out;
}

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

void SqliteStore::note_dropped_locked(const std::vector<Sample>& samples, const std::string& why) {
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

Result<void> SqliteStore::roll_up(const std::vector<std::pair<std::int64_t, std::int64_t>>& touched,
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

Result<std::int64_t> SqliteStore::series_id(const std::string& device, const std::string& metric) {
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

void SqliteStore::note_busy() {
  auto rc = sqlite3_errcode(writer_) & 0xff;
  last_busy_ = rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
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

void SqliteStore::writer_loop() {
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

}  // namespace sb::store::sqlite
