// The SQLite store's records: gaps, counter resets, leases, events and the command audit.
#include "store/sqlite/sqlite_store.hpp"

namespace sb::store::sqlite {

Result<std::int64_t> SqliteStore::add_gap(const Gap& g) {
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

Result<void> SqliteStore::update_gap(const Gap& g) {
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

Result<std::vector<Gap>> SqliteStore::gaps(const GapQuery& q) {
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
  return collect<Gap>(st, reader_, "read gaps", [&st] {
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
    return g;
  });
}

Result<void> SqliteStore::add_counter_reset(const CounterReset& c) {
  std::lock_guard lock(write_mutex_);
  Stmt st(writer_,
          "INSERT OR IGNORE INTO counter_resets (device_id, metric, t, offset, raw_before, "
          "raw_after) VALUES (?,?,?,?,?,?)");
  st.bind(1, c.device).bind(2, c.metric).bind(3, to_ms(c.time)).bind(4, c.offset);
  st.bind(5, c.raw_before).bind(6, c.raw_after);
  if (st.step() != SQLITE_DONE) return fail(db_error(writer_, "insert counter reset"));
  return {};
}

Result<std::vector<CounterReset>> SqliteStore::counter_resets(const std::string& device,
                                                              const std::string& metric) {
  std::lock_guard lock(read_mutex_);
  Stmt st(reader_,
          "SELECT t, offset, raw_before, raw_after FROM counter_resets WHERE device_id = ? AND "
          "metric = ? ORDER BY t");
  st.bind(1, device).bind(2, metric);
  return collect<CounterReset>(st, reader_, "read counter resets", [&] {
    return CounterReset{device, metric, from_ms(st.i64(0)), st.f64(1), st.f64(2), st.f64(3)};
  });
}

Result<std::int64_t> SqliteStore::add_lease(const Lease& l) {
  std::lock_guard lock(write_mutex_);
  Stmt st(writer_,
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

Result<void> SqliteStore::update_lease(const Lease& l) {
  std::lock_guard lock(write_mutex_);
  Stmt st(writer_, "UPDATE leases SET until = ?, state = ?, ended_at = ?, detail = ? WHERE id = ?");
  st.bind(1, to_ms(l.until)).bind(2, l.state);
  bind_time(st, 3, l.ended_at);
  st.bind(4, l.detail).bind(5, l.id);
  if (st.step() != SQLITE_DONE) return fail(db_error(writer_, "update lease"));
  if (sqlite3_changes(writer_) != 1)
    return fail(ErrorKind::NotFound, "lease " + std::to_string(l.id) + " is not recorded");
  return {};
}

Result<std::vector<Lease>> SqliteStore::leases(bool active_only, std::size_t limit) {
  std::lock_guard lock(read_mutex_);
  std::string sql =
      "SELECT id, command_id, device_id, command, value, argument, requested_by, started_at, "
      "until, state, ended_at, detail, restore FROM leases";
  if (active_only) sql += " WHERE state = 'active'";
  sql += " ORDER BY id DESC LIMIT ?1";
  Stmt st(reader_, sql.c_str());
  st.bind(1, static_cast<std::int64_t>(limit));
  return collect<Lease>(st, reader_, "read leases", [&st] {
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
    return l;
  });
}

Result<void> SqliteStore::add_events(const std::vector<Event>& events) {
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

Result<std::vector<Event>> SqliteStore::events(const EventQuery& q) {
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
  for (std::size_t i = 0; i < q.devices.size(); ++i) st.bind(static_cast<int>(5 + i), q.devices[i]);
  return collect<Event>(st, reader_, "read events", [&st] {
    return Event{st.text(0), from_ms(st.i64(1)), static_cast<Severity>(st.i64(2)), st.text(3),
                 st.text(4)};
  });
}

Result<std::int64_t> SqliteStore::begin_command(const CommandRecord& c) {
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

Result<void> SqliteStore::finish_command(const CommandRecord& c) {
  std::lock_guard lock(write_mutex_);
  Stmt st(writer_,
          "UPDATE commands SET finished_at = ?, status = ?, before_value = ?, after_value = ?, "
          "detail = ? WHERE id = ?");
  st.bind_opt(1, c.finished_at ? std::optional<std::int64_t>(to_ms(*c.finished_at)) : std::nullopt);
  st.bind(2, c.status).bind_opt(3, c.before).bind_opt(4, c.after).bind(5, c.detail).bind(6, c.id);
  if (st.step() != SQLITE_DONE) return fail(db_error(writer_, "update command"));
  if (sqlite3_changes(writer_) != 1)
    return fail(ErrorKind::NotFound, "command " + std::to_string(c.id) + " not in the audit");
  return {};
}

Result<std::int64_t> SqliteStore::close_interrupted_commands(
    TimePoint now, const std::string& detail, const std::vector<std::string>& connections) {
  std::lock_guard lock(write_mutex_);
  // A device's id starts with its connection's name and a colon.
  std::string sql =
      "UPDATE commands SET status = 'interrupted', finished_at = ?, detail = ? "
      "WHERE status = 'pending'";
  for (std::size_t i = 0; i < connections.size(); ++i)
    sql += std::string(i == 0 ? " AND (" : " OR ") + "substr(device_id, 1, ?) = ?" +
           (i + 1 == connections.size() ? ")" : "");
  Stmt st(writer_, sql.c_str());
  st.bind(1, to_ms(now)).bind(2, detail);
  int at = 3;
  for (const auto& c : connections) {
    st.bind(at, static_cast<std::int64_t>(c.size() + 1));
    st.bind(at + 1, c + ":");
    at += 2;
  }
  if (st.step() != SQLITE_DONE) return fail(db_error(writer_, "close interrupted commands"));
  return static_cast<std::int64_t>(sqlite3_changes(writer_));
}

Result<std::vector<CommandRecord>> SqliteStore::commands(const CommandQuery& q) {
  std::lock_guard lock(read_mutex_);
  std::string sql =
      "SELECT id, requested_at, finished_at, requested_by, device_id, command, value, "
      "duration_s, status, before_value, after_value, detail, argument FROM commands";
  sql += " WHERE (?2 IS NULL OR id = ?2)";
  if (!q.devices.empty()) sql += " AND device_id IN (" + placeholders(q.devices.size(), 3) + ")";
  sql += " ORDER BY id DESC LIMIT ?1";
  Stmt st(reader_, sql.c_str());
  if (!st.ok()) return fail(ErrorKind::Internal, "sqlite: commands query: " + st.error());
  st.bind(1, static_cast<std::int64_t>(q.limit));
  if (q.id) st.bind(2, *q.id);
  for (std::size_t i = 0; i < q.devices.size(); ++i) st.bind(static_cast<int>(3 + i), q.devices[i]);
  return collect<CommandRecord>(st, reader_, "read commands", [&st] {
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
    return c;
  });
}

}  // namespace sb::store::sqlite
