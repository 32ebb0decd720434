// The PostgreSQL store's records: gaps, counter resets, leases, events and the command audit.
#include "store/postgres/pg_store.hpp"

namespace sb::store::postgres {

namespace {

// Whether a statement that names one row by id found it.
Result<void> one_row(Result<Res> r, const std::string& missing) {
  if (!r) return fail(r.error());
  if (r->affected() != 1) return fail(ErrorKind::NotFound, missing);
  return {};
}

}  // namespace

Result<std::int64_t> PgStore::add_gap(const Gap& g) {
  std::lock_guard lock(write_mutex_);
  Params p;
  p.add(g.device).add(g.metric).add_time(g.from).add_time(g.to).add(g.reason).add(g.status);
  p.add(g.detail).add(g.filled).add(g.attempts).add_time(g.done_until).add_time(g.next_attempt);
  p.add(g.parent ? std::optional<std::int64_t>(g.parent) : std::nullopt);
  p.add_time(g.detected_at).add_time(g.updated_at);
  auto r = writer_.run(
      "INSERT INTO gaps (device_id, metric, t_from, t_to, reason, status, detail, filled, "
      "attempts, done_until, next_attempt, parent_id, detected_at, updated_at) "
      "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14) "
      "ON CONFLICT (device_id, metric, t_from) DO UPDATE SET "
      "t_to = greatest(gaps.t_to, EXCLUDED.t_to), updated_at = EXCLUDED.updated_at RETURNING id",
      "insert gap of " + g.device, p);
  if (!r) return fail(r.error());
  return r->i64(0, 0);
}

Result<void> PgStore::update_gap(const Gap& g) {
  std::lock_guard lock(write_mutex_);
  Params p;
  p.add_time(g.to).add(g.status).add(g.detail).add(g.filled).add(g.attempts);
  p.add_time(g.done_until).add_time(g.next_attempt).add_time(g.updated_at).add(g.id);
  return one_row(writer_.run("UPDATE gaps SET t_to = $1, status = $2, detail = $3, filled = $4, "
                             "attempts = $5, done_until = $6, next_attempt = $7, "
                             "updated_at = $8 WHERE id = $9",
                             "update gap", p),
                 "gap " + std::to_string(g.id) + " is not recorded");
}

Result<std::vector<Gap>> PgStore::gaps(const GapQuery& q) {
  std::string sql =
      "SELECT id, device_id, metric, t_from, t_to, reason, status, detail, filled, attempts, "
      "done_until, next_attempt, parent_id, detected_at, updated_at FROM gaps "
      "WHERE ($1::text IS NULL OR device_id = $1) AND ($2::bigint IS NULL OR "
      "(t_to > $2 AND t_from < $3)) AND ($5::text[] IS NULL OR status = ANY($5)) "
      "ORDER BY t_from DESC, id DESC LIMIT $4";
  Params p;
  p.add(q.device);
  p.add(q.range ? std::optional(to_ms(q.range->from)) : std::nullopt);
  p.add(q.range ? std::optional(to_ms(q.range->to)) : std::nullopt);
  p.add(static_cast<std::int64_t>(q.limit));
  p.add(q.statuses.empty() ? std::nullopt : std::optional(text_array(q.statuses)));
  return collect<Gap>(sql, p, "read gaps", [](const Res& r, int i) {
    Gap g;
    g.id = r.i64(i, 0);
    g.device = r.text(i, 1);
    g.metric = r.text(i, 2);
    g.from = from_ms(r.i64(i, 3));
    g.to = from_ms(r.i64(i, 4));
    g.reason = r.text(i, 5);
    g.status = r.text(i, 6);
    g.detail = r.text(i, 7);
    g.filled = r.i64(i, 8);
    g.attempts = static_cast<int>(r.i64(i, 9));
    g.done_until = from_ms(r.i64(i, 10));
    if (!r.null(i, 11)) g.next_attempt = from_ms(r.i64(i, 11));
    g.parent = r.null(i, 12) ? 0 : r.i64(i, 12);
    g.detected_at = from_ms(r.i64(i, 13));
    g.updated_at = from_ms(r.i64(i, 14));
    return g;
  });
}

Result<void> PgStore::add_counter_reset(const CounterReset& c) {
  std::lock_guard lock(write_mutex_);
  Params p;
  p.add(c.device).add(c.metric).add_time(c.time).add(c.offset).add(c.raw_before).add(c.raw_after);
  return writer_.exec(
      "INSERT INTO counter_resets (device_id, metric, t, \"offset\", raw_before, raw_after) "
      "VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING",
      "insert counter reset", p);
}

Result<std::vector<CounterReset>> PgStore::counter_resets(const std::string& device,
                                                          const std::string& metric) {
  return collect<CounterReset>(
      "SELECT t, \"offset\", raw_before, raw_after FROM counter_resets WHERE device_id = $1 AND "
      "metric = $2 ORDER BY t",
      Params().add(device).add(metric), "read counter resets", [&](const Res& r, int i) {
        return CounterReset{device,      metric,      from_ms(r.i64(i, 0)),
                            r.f64(i, 1), r.f64(i, 2), r.f64(i, 3)};
      });
}

Result<std::int64_t> PgStore::add_lease(const Lease& l) {
  std::lock_guard lock(write_mutex_);
  Params p;
  p.add(l.command).add(l.device).add(std::string(to_string(l.type))).add(l.value).add(l.argument);
  p.add(l.requested_by).add_time(l.started_at).add_time(l.until).add(l.state).add_time(l.ended_at);
  p.add(l.detail).add(l.restore);
  auto r = writer_.run(
      "INSERT INTO leases (command_id, device_id, command, value, argument, requested_by, "
      "started_at, until, state, ended_at, detail, restore) "
      "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) RETURNING id",
      "insert lease", p);
  if (!r) return fail(r.error());
  return r->i64(0, 0);
}

Result<void> PgStore::update_lease(const Lease& l) {
  std::lock_guard lock(write_mutex_);
  Params p;
  p.add_time(l.until).add(l.state).add_time(l.ended_at).add(l.detail).add(l.id);
  return one_row(writer_.run("UPDATE leases SET until = $1, state = $2, ended_at = $3, "
                             "detail = $4 WHERE id = $5",
                             "update lease", p),
                 "lease " + std::to_string(l.id) + " is not recorded");
}

Result<std::vector<Lease>> PgStore::leases(bool active_only, std::size_t limit) {
  std::string sql =
      "SELECT id, command_id, device_id, command, value, argument, requested_by, started_at, "
      "until, state, ended_at, detail, restore FROM leases";
  if (active_only) sql += " WHERE state = 'active'";
  sql += " ORDER BY id DESC LIMIT $1";
  return collect<Lease>(
      sql, Params().add(static_cast<std::int64_t>(limit)), "read leases", [](const Res& r, int i) {
        Lease l;
        l.id = r.i64(i, 0);
        l.command = r.i64(i, 1);
        l.device = r.text(i, 2);
        l.type = parse_command_type(r.text(i, 3)).value_or(CommandType::BatteryPower);
        l.value = r.f64(i, 4);
        l.argument = r.text(i, 5);
        l.requested_by = r.text(i, 6);
        l.started_at = from_ms(r.i64(i, 7));
        l.until = from_ms(r.i64(i, 8));
        l.state = r.text(i, 9);
        if (!r.null(i, 10)) l.ended_at = from_ms(r.i64(i, 10));
        l.detail = r.text(i, 11);
        l.restore = r.text(i, 12);
        return l;
      });
}

Result<void> PgStore::add_events(const std::vector<Event>& events) {
  if (events.empty()) return {};
  std::lock_guard lock(write_mutex_);
  // One statement for all: the events as parallel arrays.
  std::vector<std::string> devices, times, severities, codes, messages;
  for (const auto& e : events) {
    devices.push_back(e.device);
    times.push_back(std::to_string(to_ms(e.time)));
    severities.push_back(std::to_string(static_cast<int>(e.severity)));
    codes.push_back(e.code);
    messages.push_back(e.message);
  }
  Params p;
  p.add(text_array(devices)).add(text_array(times)).add(text_array(severities));
  p.add(text_array(codes)).add(text_array(messages));
  return writer_.exec(
      "INSERT INTO events (device_id, t, severity, code, message) "
      "SELECT * FROM unnest($1::text[], $2::bigint[], $3::int[], $4::text[], $5::text[]) "
      "ON CONFLICT (device_id, t, code) DO NOTHING",
      "insert events", p);
}

Result<std::vector<Event>> PgStore::events(const EventQuery& q) {
  Params p;
  p.add(q.device);
  p.add(q.range ? std::optional(to_ms(q.range->from)) : std::nullopt);
  p.add(q.range ? std::optional(to_ms(q.range->to)) : std::nullopt);
  p.add(static_cast<std::int64_t>(q.limit));
  p.add(q.devices.empty() ? std::nullopt : std::optional(text_array(q.devices)));
  return collect<Event>(
      "SELECT device_id, t, severity, code, message FROM events "
      "WHERE ($1::text IS NULL OR device_id = $1) AND ($5::text[] IS NULL OR device_id = ANY($5)) "
      "AND ($2::bigint IS NULL OR (t >= $2 AND t < $3)) ORDER BY t DESC, id DESC LIMIT $4",
      p, "read events", [](const Res& r, int i) {
        return Event{r.text(i, 0), from_ms(r.i64(i, 1)), static_cast<Severity>(r.i64(i, 2)),
                     r.text(i, 3), r.text(i, 4)};
      });
}

Result<std::int64_t> PgStore::begin_command(const CommandRecord& c) {
  std::lock_guard lock(write_mutex_);
  Params p;
  p.add_time(c.requested_at).add(c.requested_by).add(c.device).add(std::string(to_string(c.type)));
  p.add(c.value).add(c.duration_s).add(c.status).add(c.before).add(c.detail).add(c.argument);
  auto r = writer_.run(
      "INSERT INTO commands (requested_at, requested_by, device_id, command, value, duration_s, "
      "status, before_value, detail, argument) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) "
      "RETURNING id",
      "insert command", p);
  if (!r) return fail(r.error());
  return r->i64(0, 0);
}

Result<void> PgStore::finish_command(const CommandRecord& c) {
  std::lock_guard lock(write_mutex_);
  Params p;
  p.add_time(c.finished_at).add(c.status).add(c.before).add(c.after).add(c.detail).add(c.id);
  return one_row(writer_.run("UPDATE commands SET finished_at = $1, status = $2, "
                             "before_value = $3, after_value = $4, detail = $5 WHERE id = $6",
                             "update command", p),
                 "command " + std::to_string(c.id) + " not in the audit");
}

Result<std::int64_t> PgStore::close_interrupted_commands(
    TimePoint now, const std::string& detail, const std::vector<std::string>& connections) {
  std::lock_guard lock(write_mutex_);
  // A device's id starts with its connection's name and a colon.
  auto r = writer_.run(
      "UPDATE commands SET status = 'interrupted', finished_at = $1, detail = $2 "
      "WHERE status = 'pending' AND ($3::text[] IS NULL OR EXISTS (SELECT 1 FROM unnest($3) c "
      "WHERE left(device_id, length(c) + 1) = c || ':'))",
      "close interrupted commands",
      Params().add_time(now).add(detail).add(
          connections.empty() ? std::nullopt : std::optional(text_array(connections))));
  if (!r) return fail(r.error());
  return r->affected();
}

Result<std::vector<CommandRecord>> PgStore::commands(const CommandQuery& q) {
  Params p;
  p.add(static_cast<std::int64_t>(q.limit));
  p.add(q.devices.empty() ? std::nullopt : std::optional(text_array(q.devices)));
  p.add(q.id);
  return collect<CommandRecord>(
      "SELECT id, requested_at, finished_at, requested_by, device_id, command, value, "
      "duration_s, status, before_value, after_value, detail, argument FROM commands "
      "WHERE ($2::text[] IS NULL OR device_id = ANY($2)) AND ($3::bigint IS NULL OR id = $3) "
      "ORDER BY id DESC LIMIT $1",
      p, "read commands", [](const Res& r, int i) {
        CommandRecord c;
        c.id = r.i64(i, 0);
        c.requested_at = from_ms(r.i64(i, 1));
        if (!r.null(i, 2)) c.finished_at = from_ms(r.i64(i, 2));
        c.requested_by = r.text(i, 3);
        c.device = r.text(i, 4);
        c.type = parse_command_type(r.text(i, 5)).value_or(CommandType::BatteryPower);
        c.value = r.f64(i, 6);
        if (!r.null(i, 7)) c.duration_s = r.i64(i, 7);
        c.status = r.text(i, 8);
        if (!r.null(i, 9)) c.before = r.f64(i, 9);
        if (!r.null(i, 10)) c.after = r.f64(i, 10);
        c.detail = r.text(i, 11);
        c.argument = r.text(i, 12);
        return c;
      });
}

}  // namespace sb::store::postgres
