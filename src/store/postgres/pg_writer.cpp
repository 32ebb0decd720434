// The PostgreSQL store's writer: batches by COPY into a staging table and one merge, hourly
// rollups of the hours that are due, and retention by whole partitions.
#include <algorithm>
#include <bit>
#include <chrono>
#include <cstring>

#include "store/postgres/pg_store.hpp"

namespace sb::store::postgres {

Result<void> PgStore::make_series(const std::vector<SeriesKey>& keys) {
  if (keys.empty()) return {};
  std::vector<std::string> devices, metrics;
  devices.reserve(keys.size());
  metrics.reserve(keys.size());
  for (const auto& k : keys) {
    devices.push_back(k.device);
    metrics.push_back(k.metric);
  }
  // DO UPDATE (to itself) so that RETURNING gives the id of a row another worker made too.
  auto r = writer_.run(
      "INSERT INTO series (device_id, metric) SELECT * FROM unnest($1::text[], $2::text[]) "
      "ON CONFLICT (device_id, metric) DO UPDATE SET metric = EXCLUDED.metric "
      "RETURNING device_id, metric, id",
      "series of " + keys.front().device + (keys.size() > 1 ? " and others" : ""),
      Params().add(text_array(devices)).add(text_array(metrics)));
  if (!r) return fail(r.error());
  for (int i = 0; i < r->rows(); ++i)
    series_cache_.insert_or_assign(SeriesKey{r->text(i, 0), r->text(i, 1)}, r->i64(i, 2));
  return {};
}

Result<void> PgStore::roll_up(const std::vector<SeriesHour>& touched, bool all) {
  auto now = std::chrono::steady_clock::now();
  plan_.touched(touched, now);
  auto due = plan_.take_due(now, all);
  if (due.empty()) return {};
  // Every due hour in one statement: the (series, hour) pairs as two arrays.
  std::string series = "{", hours = "{";
  for (std::size_t i = 0; i < due.size(); ++i) {
    if (i) series += ',', hours += ',';
    series += std::to_string(due[i].series);
    hours += std::to_string(due[i].hour);
  }
  series += '}', hours += '}';
  auto r = writer_.run(
      "INSERT INTO rollups_hour (series_id, t, n, total, lo, hi, last, quality) "
      "SELECT s.series_id, k.h, count(*), sum(s.value), min(s.value), max(s.value), "
      "(array_agg(s.value ORDER BY s.t DESC))[1], max(s.quality) "
      "FROM unnest($1::bigint[], $2::bigint[]) AS k(series_id, h) "
      "JOIN samples AS s ON s.series_id = k.series_id AND s.t >= k.h AND s.t < k.h + 3600000 "
      "GROUP BY s.series_id, k.h "
      "ON CONFLICT (series_id, t) DO UPDATE SET n = EXCLUDED.n, total = EXCLUDED.total, "
      "lo = EXCLUDED.lo, hi = EXCLUDED.hi, last = EXCLUDED.last, quality = EXCLUDED.quality",
      "roll up hours", Params().add(series).add(hours));
  if (!r) {
    plan_.retry(due, now);
    return fail(r.error());
  }
  rolled_in_txn_ = std::move(due);
  return {};
}

Result<void> PgStore::write_batch(const std::vector<Sample>& samples, bool roll_all) {
  if (samples.empty()) return {};
  wait_out_ = false;
  auto failed = [&](Error e) -> Result<void> {
    wait_out_ = writer_.transient();
    (void)writer_.exec("ROLLBACK", "rollback");
    series_cache_.clear();  // ids made in the rolled-back transaction are gone
    plan_.retry(std::exchange(rolled_in_txn_, {}), std::chrono::steady_clock::now());
    return fail(std::move(e));
  };
  auto [lo, hi] =
      std::minmax_element(samples.begin(), samples.end(),
                          [](const Sample& a, const Sample& b) { return a.time < b.time; });
  if (auto r = ensure_partitions(to_ms(lo->time), to_ms(hi->time)); !r) {
    wait_out_ = writer_.transient();
    return r;
  }
  if (auto r = writer_.exec("BEGIN", "begin"); !r) {
    wait_out_ = writer_.transient();
    return r;
  }
  struct Row {
    std::int64_t series, t;
    double value;
    int quality, n;
  };
  std::vector<Row> rows;
  rows.reserve(samples.size());
  int n = 0;
  // Series not known yet are made together afterwards (a new worker meets thousands at once).
  std::vector<std::size_t> unknown;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const auto& s = samples[i];
    std::int64_t id = 0;
    if (auto it = series_cache_.find({s.device, s.metric}); it != series_cache_.end())
      id = it->second;
    if (!id) unknown.push_back(i);
    rows.push_back({id, to_ms(s.time), s.value, static_cast<int>(s.quality), n++});
  }
  if (!unknown.empty()) {
    std::vector<SeriesKey> keys;
    for (auto i : unknown) keys.push_back({samples[i].device, samples[i].metric});
    std::sort(keys.begin(), keys.end(), [](const SeriesKey& a, const SeriesKey& b) {
      return std::tie(a.device, a.metric) < std::tie(b.device, b.metric);
    });
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    if (auto r = make_series(keys); !r) return failed(r.error());
    for (auto i : unknown) {
      const auto& s = samples[i];
      auto it = series_cache_.find({s.device, s.metric});
      if (it == series_cache_.end())
        return failed(Error{ErrorKind::Internal, "postgresql: the series of " + s.device + " " +
                                                     s.metric + " was not made"});
      rows[i].series = it->second;
    }
  }
  // One row per key, decided here so that the server merges without sorting: the best quality,
  // and of equals the one written last (as one sample after another would leave it).
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return std::tie(a.series, a.t, a.quality, b.n) < std::tie(b.series, b.t, b.quality, a.n);
  });
  rows.erase(
      std::unique(rows.begin(), rows.end(),
                  [](const Row& a, const Row& b) { return a.series == b.series && a.t == b.t; }),
      rows.end());
  // COPY's binary format: no number printed here nor parsed there. Each row is the same 46
  // bytes, written in place, numbers big-endian.
  constexpr std::size_t kRow = 2 + 4 + 8 + 4 + 8 + 4 + 8 + 4 + 2;
  std::string data(19 + rows.size() * kRow + 2, '\0');
  char* at = data.data();
  auto put = [&at]<class T>(T v) {
    if constexpr (std::endian::native == std::endian::little) v = std::byteswap(v);
    std::memcpy(at, &v, sizeof v);
    at += sizeof v;
  };
  std::memcpy(at, "PGCOPY\n\377\r\n\0", 11);
  at += 11;
  put(std::uint32_t{0});  // flags
  put(std::uint32_t{0});  // header extension
  for (const auto& r : rows) {
    put(std::uint16_t{4});  // fields
    put(std::uint32_t{8});
    put(static_cast<std::uint64_t>(r.series));
    put(std::uint32_t{8});
    put(static_cast<std::uint64_t>(r.t));
    put(std::uint32_t{8});
    put(std::bit_cast<std::uint64_t>(r.value));
    put(std::uint32_t{2});
    put(static_cast<std::uint16_t>(r.quality));
  }
  put(std::uint16_t{0xffff});  // the end
  // New samples, as nearly all are, go straight into their partitions: no staging table to
  // write and read again, and a plain insert costs the server two thirds of a merge's
  // (speculative insertion probes every key twice). A batch that meets a stored sample (a
  // replay, a backfill's edge) is undone to the savepoint, staged and merged: a replay changes
  // nothing, a worse quality never replaces a better. (COMMIT releases the savepoint.)
  if (auto r = writer_.exec("SAVEPOINT fresh", "savepoint"); !r) return failed(r.error());
  auto fresh =
      writer_.copy_in("COPY samples (series_id, t, value, quality) FROM STDIN (FORMAT binary)",
                      data, "copy samples");
  if (!fresh && writer_.last_state() != "23505") return failed(fresh.error());
  if (!fresh) {
    if (auto r = writer_.exec("ROLLBACK TO SAVEPOINT fresh", "rollback to savepoint"); !r)
      return failed(r.error());
    if (auto r =
            writer_.copy_in("COPY samples_in FROM STDIN (FORMAT binary)", data, "stage samples");
        !r)
      return failed(r.error());
    if (auto r =
            writer_.exec("INSERT INTO samples (series_id, t, value, quality) "
                         "SELECT series_id, t, value, quality FROM samples_in "
                         "ON CONFLICT (series_id, t) DO UPDATE SET value = EXCLUDED.value, "
                         "quality = EXCLUDED.quality WHERE EXCLUDED.quality <= samples.quality",
                         "merge samples");
        !r)
      return failed(r.error());
  }
  if (auto r = roll_up(hours_of(rows), roll_all); !r) return failed(r.error());
  if (auto r = writer_.exec("COMMIT", "commit"); !r) return failed(r.error());
  rolled_in_txn_.clear();
  return {};
}

Result<std::int64_t> PgStore::prune(const Retention& r, TimePoint now, Millis budget) {
  auto started = std::chrono::steady_clock::now();
  auto spent = [&] { return std::chrono::steady_clock::now() - started >= budget; };
  std::int64_t deleted = 0;
  std::lock_guard lock(write_mutex_);
  // Slices of 20,000 rows: each statement short, so batches go between them.
  auto slices = [&](const std::string& sql, std::int64_t cutoff,
                    std::string_view what) -> Result<void> {
    for (;;) {
      auto x = writer_.run(sql, what, Params().add(cutoff));
      if (!x) return fail(x.error());
      deleted += x->affected();
      if (x->affected() == 0 || spent()) return {};
    }
  };
  if (r.samples) {
    auto cutoff = to_ms(now - *r.samples);
    // Whole months past the cutoff go at once: dropping a partition frees its space.
    auto parts = writer_.run(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'samples'::regclass ORDER BY c.relname",
        "list sample partitions");
    if (!parts) return fail(parts.error());
    for (int i = 0; i < parts->rows(); ++i) {
      auto name = parts->text(i, 0);
      auto start = partition_start(name);
      if (!start) continue;  // not one of sunbridge's
      auto end = next_month(*start);
      if (end > cutoff) break;
      auto rows = writer_.run("SELECT count(*) FROM " + name, "count " + name);
      if (!rows) return fail(rows.error());
      auto n = rows->i64(0, 0);
      if (auto x =
              writer_.exec("BEGIN; SELECT pg_advisory_xact_lock(" + std::to_string(kPartitionLock) +
                               "); DROP TABLE " + name + "; COMMIT;",
                           "drop " + name);
          !x) {
        (void)writer_.exec("ROLLBACK", "rollback");
        return fail(x.error());
      }
      partitions_.erase(*start);
      deleted += n;
      if (spent()) break;
    }
    if (!spent())
      if (auto x = slices("DELETE FROM samples WHERE (series_id, t) IN (SELECT series_id, t FROM "
                          "samples WHERE t < $1 LIMIT 20000)",
                          cutoff, "prune samples");
          !x)
        return fail(x.error());
  }
  if (r.hourly && !spent())
    if (auto x = slices("DELETE FROM rollups_hour WHERE (series_id, t) IN (SELECT series_id, t "
                        "FROM rollups_hour WHERE t < $1 LIMIT 20000)",
                        to_ms(now - *r.hourly), "prune hourly rollups");
        !x)
      return fail(x.error());
  if (r.events && !spent())
    if (auto x = slices("DELETE FROM events WHERE id IN (SELECT id FROM events WHERE t < $1 "
                        "ORDER BY t LIMIT 5000)",
                        to_ms(now - *r.events), "prune events");
        !x)
      return fail(x.error());
  pruned_ += static_cast<std::uint64_t>(deleted);
  return deleted;
}

}  // namespace sb::store::postgres
