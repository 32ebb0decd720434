#include "store/postgres/pg_store.hpp"

#include <chrono>
#include <cmath>

namespace sb::store::postgres {

Params& Params::add(double d) {
  if (std::isnan(d)) {
    v_.emplace_back("NaN");
  } else if (std::isinf(d)) {
    v_.emplace_back(d > 0 ? "Infinity" : "-Infinity");
  } else {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);  // shortest that reads back
    v_.emplace_back(std::string(buf, end));
  }
  return *this;
}

namespace {

// libpq's messages span lines ("...refused\n\tIs the server running...?\n"): one line for the
// log, where each message is one record.
std::string one_line(std::string m) {
  std::string out;
  for (char ch : m) {
    if (ch == '\n' || ch == '\t' || ch == '\r') {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += ch;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace

Result<void> Conn::connect(const std::string& conninfo, const std::string& shown,
                           std::string setup) {
  shown_ = shown;
  setup_ = std::move(setup);
  PQfinish(c_);
  c_ = PQconnectdb(conninfo.c_str());
  if (PQstatus(c_) != CONNECTION_OK) {
    auto m = one_line(c_ ? PQerrorMessage(c_) : "out of memory");
    return fail(ErrorKind::Transport, "cannot connect to PostgreSQL " + shown + ": " + m);
  }
  // Notices (a table already there) are not errors: quiet, not on stderr.
  PQsetNoticeProcessor(
      c_, [](void*, const char*) {}, nullptr);
  return set_up();
}

Result<void> Conn::set_up() {
  if (setup_.empty()) return {};
  Res r(PQexec(c_, setup_.c_str()));
  if (!r.ok()) return fail(error("set up the session", &r));
  return {};
}

bool Conn::usable() {
  if (PQstatus(c_) == CONNECTION_OK) return true;
  PQreset(c_);
  return PQstatus(c_) == CONNECTION_OK && set_up();
}

Error Conn::error(std::string_view what, const Res* r) {
  std::string m = r && r->get() ? PQresultErrorMessage(r->get()) : "";
  if (m.empty()) m = PQerrorMessage(c_);
  m = one_line(std::move(m));
  auto state = r ? r->state() : "";
  last_state_ = state;
  // 08: connection exception, 57P0x: shutting down or starting, 40: deadlock or serialization,
  // 55P03: lock not available. Waited out; anything else is the statement's own fault.
  transient_ = PQstatus(c_) != CONNECTION_OK || state.starts_with("08") ||
               state.starts_with("57P") || state.starts_with("40") || state == "55P03";
  return Error{transient_ ? ErrorKind::Transport : ErrorKind::Internal,
               "postgresql: " + std::string(what) + ": " + m};
}

Result<Res> Conn::run(const std::string& sql, std::string_view what, const Params& p) {
  if (!usable()) return fail(error(what, nullptr));
  auto ptrs = p.pointers();
  Res r(p.size() == 0
            ? PQexec(c_, sql.c_str())
            : PQexecParams(c_, sql.c_str(), p.size(), nullptr, ptrs.data(), nullptr, nullptr, 0));
  if (!r.ok()) return fail(error(what, &r));
  transient_ = false;
  return r;
}

Result<void> Conn::copy_in(const std::string& sql, std::string_view data, std::string_view what) {
  auto started = run(sql, what);
  if (!started) return fail(started.error());
  if (PQresultStatus(started->get()) != PGRES_COPY_IN)
    return fail(ErrorKind::Internal, "postgresql: " + std::string(what) + ": not a COPY");
  // Sent in pieces of 1 MB: libpq copies what it is given into its own buffer.
  for (std::size_t at = 0; at < data.size();) {
    auto n = std::min<std::size_t>(data.size() - at, 1 << 20);
    if (PQputCopyData(c_, data.data() + at, static_cast<int>(n)) != 1) {
      PQputCopyEnd(c_, "sunbridge gave up");
      while (auto* x = PQgetResult(c_)) PQclear(x);
      return fail(error(what, nullptr));
    }
    at += n;
  }
  if (PQputCopyEnd(c_, nullptr) != 1) return fail(error(what, nullptr));
  Result<void> out;
  while (auto* x = PQgetResult(c_)) {
    Res r(x);
    if (!r.ok() && out) out = fail(error(what, &r));
  }
  return out;
}

std::int64_t month_start(std::int64_t ms) {
  using namespace std::chrono;
  year_month_day ymd(floor<days>(sys_time<milliseconds>(milliseconds(ms))));
  return duration_cast<milliseconds>(sys_days(ymd.year() / ymd.month() / 1).time_since_epoch())
      .count();
}

std::int64_t next_month(std::int64_t start) {
  using namespace std::chrono;
  year_month_day ymd(floor<days>(sys_time<milliseconds>(milliseconds(start))));
  auto next = ymd.year() / ymd.month() / 1 + months(1);
  return duration_cast<milliseconds>(sys_days(next).time_since_epoch()).count();
}

std::string partition_name(std::int64_t start) {
  using namespace std::chrono;
  year_month_day ymd(floor<days>(sys_time<milliseconds>(milliseconds(start))));
  char buf[32];
  std::snprintf(buf, sizeof buf, "samples_%04d_%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()));
  return buf;
}

std::optional<std::int64_t> partition_start(const std::string& name) {
  int y = 0;
  unsigned m = 0;
  char rest = 0;
  if (std::sscanf(name.c_str(), "samples_%4d_%2u%c", &y, &m, &rest) != 2 || m < 1 || m > 12)
    return std::nullopt;
  using namespace std::chrono;
  return duration_cast<milliseconds>(sys_days(year(y) / month(m) / 1).time_since_epoch()).count();
}

PgStore::PgStore(std::string conninfo, PostgresOptions options)
    : QueuedStore(options.queue_capacity, options.max_batch),
      conninfo_(std::move(conninfo)),
      shown_(without_password(conninfo_)),
      options_(options) {}

PgStore::~PgStore() {
  close();
}

Result<void> PgStore::open() {
  if (auto r = writer_.connect(conninfo_, shown_); !r) return r;
  if (auto r = migrate(writer_, shown_); !r) return r;
  if (auto r = reader_.connect(conninfo_, shown_); !r) return r;
  // The staging table of the writer's batches: the session's own, emptied at each commit, made
  // again with each new session.
  if (auto r = writer_.connect(conninfo_, shown_,
                               "CREATE TEMP TABLE samples_in (series_id BIGINT, t BIGINT, "
                               "value DOUBLE PRECISION, quality SMALLINT) "
                               "ON COMMIT DELETE ROWS");
      !r)
    return r;
  auto now = to_ms(std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now()));
  {
    std::lock_guard lock(write_mutex_);
    std::int64_t last = month_start(now);
    for (int i = 0; i < options_.months_ahead; ++i) last = next_month(last);
    if (auto r = ensure_partitions(now, last); !r) return r;
    // Hours a crash left unrolled (written in the last minute before it), rebuilt from the
    // newest rolled-up hour on.
    if (auto r = writer_.exec(
            "INSERT INTO rollups_hour (series_id, t, n, total, lo, hi, last, quality) "
            "SELECT series_id, (t / 3600000) * 3600000 AS h, count(*), sum(value), min(value), "
            "max(value), (array_agg(value ORDER BY t DESC))[1], max(quality) FROM samples "
            "WHERE t >= (SELECT coalesce(max(t), 0) FROM rollups_hour) GROUP BY series_id, h "
            "ON CONFLICT (series_id, t) DO UPDATE SET n = EXCLUDED.n, total = EXCLUDED.total, "
            "lo = EXCLUDED.lo, hi = EXCLUDED.hi, last = EXCLUDED.last, "
            "quality = EXCLUDED.quality",
            "catch up the hourly rollups");
        !r)
      return r;
  }
  queue_.start();
  return {};
}

Result<void> migrate(Conn& c, const std::string& shown) {
  // Workers starting together: one migrates, the others wait here and find it done.
  if (auto r = c.exec("SELECT pg_advisory_lock(" + std::to_string(kMigrationLock) + ")",
                      "wait for the migration lock");
      !r)
    return r;
  auto unlock = [&] {
    (void)c.exec("SELECT pg_advisory_unlock(" + std::to_string(kMigrationLock) + ")",
                 "release the migration lock");
  };
  auto result = [&]() -> Result<void> {
    if (auto r =
            c.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                   "name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
                   "schema_migrations");
        !r)
      return r;
    auto cur =
        c.run("SELECT coalesce(max(version), 0) FROM schema_migrations", "read the schema version");
    if (!cur) return fail(cur.error());
    int current = static_cast<int>(cur->i64(0, 0));
    if (current > latest_postgres_schema_version())
      return fail(ErrorKind::Internal,
                  "database " + shown + " has schema version " + std::to_string(current) +
                      ", newer than this sunbridge knows (" +
                      std::to_string(latest_postgres_schema_version()) + "): upgrade sunbridge");
    std::vector<std::pair<int, const EmbeddedFile*>> todo;
    for (std::size_t i = 0; i < sb_pg_migrations_count; ++i) {
      int v = std::stoi(std::string(sb_pg_migrations[i].path.substr(0, 4)));
      if (v > current) todo.emplace_back(v, &sb_pg_migrations[i]);
    }
    std::sort(todo.begin(), todo.end());
    for (const auto& [v, f] : todo) {
      auto name = std::string(f->path);
      // One transaction per migration: it applies whole or not at all.
      auto sql = "BEGIN;\n" + std::string(f->data) + "\nINSERT INTO schema_migrations VALUES (" +
                 std::to_string(v) + ", '" + name + "', " +
                 std::to_string(to_ms(std::chrono::floor<std::chrono::milliseconds>(
                     std::chrono::system_clock::now()))) +
                 ");\nCOMMIT;";
      if (auto r = c.exec(sql, "migration " + name); !r) {
        (void)c.exec("ROLLBACK", "rollback");
        return r;
      }
    }
    return {};
  }();
  unlock();
  return result;
}

Result<void> PgStore::ensure_partitions(std::int64_t from, std::int64_t to) {
  std::vector<std::int64_t> missing;
  for (auto m = month_start(from); m <= to; m = next_month(m))
    if (!partitions_.contains(m)) missing.push_back(m);
  if (missing.empty()) return {};
  // Its own short transaction, before the batch's: making a partition locks the parent table,
  // which a batch's transaction would hold on to until its commit.
  std::string sql = "BEGIN; SELECT pg_advisory_xact_lock(" + std::to_string(kPartitionLock) + ");";
  for (auto m : missing)
    sql += "CREATE TABLE IF NOT EXISTS " + partition_name(m) +
           " PARTITION OF samples FOR VALUES FROM (" + std::to_string(m) + ") TO (" +
           std::to_string(next_month(m)) + ");";
  sql += "COMMIT;";
  if (auto r = writer_.exec(sql, "make sample partitions"); !r) {
    (void)writer_.exec("ROLLBACK", "rollback");
    return r;
  }
  partitions_.insert(missing.begin(), missing.end());
  return {};
}

StoreStats PgStore::stats() const {
  StoreStats s;
  queue_.fill(s);
  s.pruned_rows = pruned_.load();
  std::lock_guard lock(read_mutex_);
  if (auto r = reader_.run("SELECT pg_database_size(current_database())", "database size"))
    s.database_bytes = r->i64(0, 0);
  return s;  // the server's disk is not this machine's: free space stays unknown (-1)
}

void PgStore::close() {
  if (closed_.exchange(true)) return;
  queue_.stop();
  std::lock_guard wl(write_mutex_);
  if (plan_.waiting() > 0 && writer_.exec("BEGIN", "begin")) {  // the hours still waiting
    if (roll_up({}, true))
      (void)writer_.exec("COMMIT", "commit");
    else
      (void)writer_.exec("ROLLBACK", "rollback");
  }
}

}  // namespace sb::store::postgres

namespace sb::store {

bool is_postgres(std::string_view database) {
  return database.starts_with("postgresql://") || database.starts_with("postgres://");
}

std::string without_password(std::string_view conninfo) {
  std::string s(conninfo);
  if (is_postgres(s)) {
    // postgresql://user:secret@host/db: what stands between "user:" and "@".
    auto scheme = s.find("://") + 3;
    auto at = s.find('@', scheme);
    auto colon = s.find(':', scheme);
    if (at != std::string::npos && colon != std::string::npos && colon < at)
      s.replace(colon + 1, at - colon - 1, "***");
    // …?password=secret&…
    for (auto p = s.find("password="); p != std::string::npos; p = s.find("password=", p + 1)) {
      auto start = p + 9;
      auto end = s.find('&', start);
      s.replace(start, (end == std::string::npos ? s.size() : end) - start, "***");
    }
    return s;
  }
  // Keyword form: password=secret or password='se cret'.
  for (auto p = s.find("password"); p != std::string::npos; p = s.find("password", p + 1)) {
    auto eq = s.find_first_not_of(' ', p + 8);
    if (eq == std::string::npos || s[eq] != '=') continue;
    auto start = s.find_first_not_of(' ', eq + 1);
    if (start == std::string::npos) break;
    std::size_t end;
    if (s[start] == '\'') {
      end = start + 1;
      while (end < s.size() && s[end] != '\'') end += s[end] == '\\' ? 2 : 1;
      end = std::min(end + 1, s.size());
    } else {
      end = s.find(' ', start);
      if (end == std::string::npos) end = s.size();
    }
    s.replace(start, end - start, "***");
  }
  return s;
}

int latest_postgres_schema_version() {
  int v = 0;
  for (std::size_t i = 0; i < sb_pg_migrations_count; ++i)
    v = std::max(v, std::stoi(std::string(sb_pg_migrations[i].path.substr(0, 4))));
  return v;
}

std::optional<std::string> postgres_problem(const std::string& conninfo) {
  // libpq is loaded here first: every way into the PostgreSQL store asks this before all else.
  if (auto loaded = postgres::load_libpq(); !loaded) return loaded.error().message;
  char* err = nullptr;
  if (auto* parsed = postgres::PQconninfoParse(conninfo.c_str(), &err)) {
    postgres::PQconninfoFree(parsed);
    return std::nullopt;
  }
  std::string m = err ? err : "not a connection string";
  postgres::PQfreemem(err);
  while (!m.empty() && m.back() == '\n') m.pop_back();
  return m;
}

Result<std::unique_ptr<Store>> open_postgres(const std::string& conninfo, PostgresOptions options) {
  if (auto problem = postgres_problem(conninfo))
    return fail(ErrorKind::InvalidArgument,
                "database '" + without_password(conninfo) + "': " + *problem);
  auto s = std::make_unique<postgres::PgStore>(conninfo, options);
  if (auto r = s->open(); !r) return fail(r.error());
  return std::unique_ptr<Store>(std::move(s));
}

Result<std::unique_ptr<Store>> open_store(const std::string& database) {
  return is_postgres(database) ? open_postgres(database) : open_sqlite(database);
}

}  // namespace sb::store
