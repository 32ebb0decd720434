// The fleet's records on PostgreSQL: connections, workers, connection leases.
#include <poll.h>
#include <limits>

#include <mutex>

#include "core/commands.hpp"

#include "store/fleet.hpp"
#include "store/postgres/pg_store.hpp"

namespace sb::store::postgres {

namespace {

// The server's clock in UTC milliseconds: every worker's lease is measured on it.
constexpr const char* kNow = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

std::vector<ConnectionLease> leases_of(const Res& r) {
  return rows_of<ConnectionLease>(r, [](const Res& x, int i) {
    return ConnectionLease{x.text(i, 0), x.text(i, 1), x.i64(i, 2), from_ms(x.i64(i, 3))};
  });
}

constexpr const char* kCommandColumns =
    "id, connection, device_id, command, value, argument, duration_s, requested_by, status, "
    "worker, audit_id, error_kind, error, answer";
// The command name of a settings read: no command is called so.
constexpr const char* kSettingsRead = "read-settings";

std::vector<FleetCommand> commands_of(const Res& r) {
  return rows_of<FleetCommand>(r, [](const Res& x, int i) {
    FleetCommand c;
    c.id = x.i64(i, 0);
    c.connection = x.text(i, 1);
    c.command.device = x.text(i, 2);
    c.settings_read = x.text(i, 3) == kSettingsRead;
    if (auto t = parse_command_type(x.text(i, 3))) c.command.type = *t;
    c.command.value = x.f64(i, 4);
    c.command.argument = x.text(i, 5);
    if (!x.null(i, 6)) c.command.duration = std::chrono::seconds(x.i64(i, 6));
    c.command.requested_by = x.text(i, 7);
    c.status = x.text(i, 8);
    c.worker = x.text(i, 9);
    if (!x.null(i, 10)) c.audit_id = x.i64(i, 10);
    c.error_kind = x.text(i, 11);
    c.error = x.text(i, 12);
    c.answer = x.text(i, 13);
    return c;
  });
}

class PgFleet final : public Fleet {
 public:
  explicit PgFleet(std::string conninfo)
      : conninfo_(std::move(conninfo)), shown_(without_password(conninfo_)) {}

  Result<void> open() {
    if (auto r = c_.connect(conninfo_, shown_); !r) return r;
    return migrate(c_, shown_);
  }

  Result<void> put_connection(const FleetConnection& f) override {
    std::lock_guard lock(m_);
    // With its lease row, held by nobody (epoch 0, expired): claims lock lease rows.
    return c_.exec(
        std::string("WITH c AS (INSERT INTO fleet_connections (name, site_id, vendor, account, "
                    "sealed, updated_at) VALUES ($1, $2, $3, $4, $5, ") +
            kNow +
            ") ON CONFLICT (name) DO UPDATE SET site_id = EXCLUDED.site_id, vendor = "
            "EXCLUDED.vendor, account = EXCLUDED.account, sealed = EXCLUDED.sealed, "
            "updated_at = EXCLUDED.updated_at RETURNING name) "
            "INSERT INTO fleet_leases (connection, worker, epoch, expires_at) "
            "SELECT name, '', 0, 0 FROM c ON CONFLICT (connection) DO NOTHING",
        "store connection " + f.name,
        Params().add(f.name).add(f.site).add(f.vendor).add(f.account).add(f.sealed));
  }

  Result<bool> has_connection(const std::string& name) override {
    std::lock_guard lock(m_);
    auto r = c_.run("SELECT 1 FROM fleet_connections WHERE name = $1", "find connection",
                    Params().add(name));
    if (!r) return fail(r.error());
    return r->rows() == 1;
  }

  Result<std::vector<FleetConnection>> connections() override {
    std::lock_guard lock(m_);
    auto r = c_.run(
        "SELECT name, site_id, vendor, account, sealed, updated_at FROM fleet_connections "
        "ORDER BY name",
        "list connections");
    if (!r) return fail(r.error());
    return rows_of<FleetConnection>(*r, [](const Res& x, int i) {
      return FleetConnection{x.text(i, 0), x.text(i, 1), x.text(i, 2),
                             x.text(i, 3), x.text(i, 4), from_ms(x.i64(i, 5))};
    });
  }

  Result<bool> remove_connection(const std::string& name) override {
    std::lock_guard lock(m_);
    auto r = c_.run("DELETE FROM fleet_connections WHERE name = $1", "remove connection " + name,
                    Params().add(name));
    if (!r) return fail(r.error());
    return r->affected() == 1;
  }

  Result<void> heartbeat(const FleetWorker& w) override {
    std::lock_guard lock(m_);
    return c_.exec(std::string("INSERT INTO fleet_workers (id, host, pid, api, started_at, "
                               "seen_at) VALUES ($1, $2, $3, $4, ") +
                       kNow + ", " + kNow +
                       ") ON CONFLICT (id) DO UPDATE SET host = EXCLUDED.host, pid = "
                       "EXCLUDED.pid, api = EXCLUDED.api, seen_at = EXCLUDED.seen_at",
                   "worker heartbeat", Params().add(w.id).add(w.host).add(w.pid).add(w.api));
  }

  Result<void> leave(const std::string& worker) override {
    std::lock_guard lock(m_);
    return c_.exec(
        std::string("DELETE FROM fleet_workers WHERE id = $1 OR seen_at < ") + kNow + " - 86400000",
        "worker leaves", Params().add(worker));
  }

  Result<std::vector<FleetWorker>> workers(Millis alive_within) override {
    std::lock_guard lock(m_);
    auto r = c_.run(std::string("SELECT id, host, pid, api, started_at, seen_at FROM "
                                "fleet_workers WHERE seen_at >= ") +
                        kNow + " - $1 ORDER BY id",
                    "list workers", Params().add(static_cast<std::int64_t>(alive_within.count())));
    if (!r) return fail(r.error());
    return rows_of<FleetWorker>(*r, [](const Res& x, int i) {
      return FleetWorker{x.text(i, 0), x.text(i, 1),         x.i64(i, 2),
                         x.text(i, 3), from_ms(x.i64(i, 4)), from_ms(x.i64(i, 5))};
    });
  }

  Result<std::vector<ConnectionLease>> leases() override {
    std::lock_guard lock(m_);
    auto r = c_.run(
        "SELECT connection, worker, epoch, expires_at FROM fleet_leases ORDER BY "
        "connection",
        "list leases");
    if (!r) return fail(r.error());
    return leases_of(*r);
  }

  Result<std::vector<ConnectionLease>> claim(const std::string& worker, std::size_t most,
                                             Millis ttl) override {
    if (most == 0) return std::vector<ConnectionLease>{};
    std::lock_guard lock(m_);
    // Lease rows nobody holds, locked while this statement takes them: a claim at the same
    // moment skips them (SKIP LOCKED), and one that waited for a row another claim has just
    // taken finds it taken when it checks the row again, and goes on to the next.
    auto r =
        c_.run(std::string("WITH now AS (SELECT ") + kNow +
                   " AS t), free AS (SELECT l.connection FROM fleet_leases l, now "
                   "WHERE l.expires_at < now.t ORDER BY l.connection LIMIT $2 "
                   "FOR UPDATE OF l SKIP LOCKED) "
                   "UPDATE fleet_leases AS l SET worker = $1, epoch = l.epoch + 1, "
                   "expires_at = now.t + $3 FROM free, now WHERE l.connection = free.connection "
                   "RETURNING l.connection, l.worker, l.epoch, l.expires_at",
               "claim connections",
               Params()
                   .add(worker)
                   .add(static_cast<std::int64_t>(most))
                   .add(static_cast<std::int64_t>(ttl.count())));
    if (!r) return fail(r.error());
    return leases_of(*r);
  }

  Result<std::vector<ConnectionLease>> renew(const std::string& worker,
                                             const std::vector<ConnectionLease>& held,
                                             Millis ttl) override {
    if (held.empty()) return std::vector<ConnectionLease>{};
    std::vector<std::string> names, epochs;
    for (const auto& l : held) {
      names.push_back(l.connection);
      epochs.push_back(std::to_string(l.epoch));
    }
    std::lock_guard lock(m_);
    auto r = c_.run(
        std::string("WITH now AS (SELECT ") + kNow +
            " AS t) UPDATE fleet_leases AS l SET expires_at = now.t + $4 "
            "FROM unnest($2::text[], $3::bigint[]) AS h(connection, epoch), now "
            "WHERE l.connection = h.connection AND l.epoch = h.epoch AND l.worker = $1 "
            "AND l.expires_at >= now.t RETURNING l.connection, l.worker, l.epoch, l.expires_at",
        "renew leases",
        Params()
            .add(worker)
            .add(text_array(names))
            .add(text_array(epochs))
            .add(static_cast<std::int64_t>(ttl.count())));
    if (!r) return fail(r.error());
    return leases_of(*r);
  }

  Result<void> release(const std::string& worker,
                       const std::vector<std::string>& connections) override {
    if (connections.empty()) return {};
    std::lock_guard lock(m_);
    // Expired rather than deleted: the epoch goes on growing with the next holder.
    return c_.exec(
        "UPDATE fleet_leases SET expires_at = 0 WHERE worker = $1 AND connection = ANY($2::text[])",
        "release leases", Params().add(worker).add(text_array(connections)));
  }

  Result<std::int64_t> queue_command(const std::string& connection, const Command& c) override {
    std::lock_guard lock(m_);
    // The row and the wake-up in one statement: the notification goes out at its commit.
    auto r = c_.run(
        std::string("WITH q AS (INSERT INTO fleet_commands (connection, device_id, command, "
                    "value, argument, duration_s, requested_by, status, created_at) VALUES ($1, "
                    "$2, $3, $4, $5, $6, $7, 'queued', ") +
            kNow + ") RETURNING id) SELECT id, pg_notify('sunbridge_commands', $1) FROM q",
        "queue command",
        Params()
            .add(connection)
            .add(c.device)
            .add(std::string(to_string(c.type)))
            .add(c.value)
            .add(c.argument)
            .add(c.duration ? std::optional(std::to_string(c.duration->count())) : std::nullopt)
            .add(c.requested_by));
    if (!r) return fail(r.error());
    return r->i64(0, 0);
  }

  Result<std::int64_t> queue_settings_read(const std::string& connection, const std::string& device,
                                           bool refresh, const std::string& requested_by) override {
    std::lock_guard lock(m_);
    auto r =
        c_.run(std::string("WITH q AS (INSERT INTO fleet_commands (connection, device_id, command, "
                           "value, requested_by, status, created_at) VALUES ($1, $2, $3, $4, $5, "
                           "'queued', ") +
                   kNow + ") RETURNING id) SELECT id, pg_notify('sunbridge_commands', $1) FROM q",
               "queue settings read",
               Params()
                   .add(connection)
                   .add(device)
                   .add(std::string(kSettingsRead))
                   .add(refresh ? 1.0 : 0.0)
                   .add(requested_by));
    if (!r) return fail(r.error());
    return r->i64(0, 0);
  }

  Result<void> finish_settings_read(std::int64_t id, const Result<std::string>& answer) override {
    return finish(id, "finish settings read", std::nullopt, answer ? *answer : std::string(),
                  answer ? std::nullopt : std::optional<Error>(answer.error()));
  }

  Result<std::vector<FleetCommand>> take_commands(
      const std::string& worker, const std::vector<std::string>& connections) override {
    if (connections.empty()) return std::vector<FleetCommand>{};
    std::lock_guard lock(m_);
    // Finished rows are kept a day (the caller has long had its answer), then go.
    (void)c_.exec(
        std::string("DELETE FROM fleet_commands WHERE finished_at < ") + kNow + " - 86400000",
        "forget old commands");
    auto r = c_.run(
        std::string("WITH t AS (SELECT id FROM fleet_commands WHERE status = 'queued' AND "
                    "connection = ANY($2::text[]) ORDER BY id FOR UPDATE SKIP LOCKED) "
                    "UPDATE fleet_commands f SET status = 'running', worker = $1 FROM t WHERE "
                    "f.id = t.id RETURNING ") +
            "f.id, f.connection, f.device_id, f.command, f.value, f.argument, f.duration_s, "
            "f.requested_by, f.status, f.worker, f.audit_id, f.error_kind, f.error, f.answer",
        "take commands", Params().add(worker).add(text_array(connections)));
    if (!r) return fail(r.error());
    auto out = commands_of(*r);
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    return out;
  }

  Result<void> finish_command(std::int64_t id, std::optional<std::int64_t> audit_id,
                              const std::optional<Error>& error) override {
    return finish(id, "finish command", audit_id, std::string(), error);
  }

  Result<FleetCommand> command(std::int64_t id) override {
    std::lock_guard lock(m_);
    auto r = c_.run(std::string("SELECT ") + kCommandColumns + " FROM fleet_commands WHERE id = $1",
                    "read command", Params().add(id));
    if (!r) return fail(r.error());
    auto rows = commands_of(*r);
    if (rows.empty())
      return fail(ErrorKind::NotFound, "fleet command " + std::to_string(id) + " not found");
    return rows.front();
  }

  Result<bool> withdraw_command(std::int64_t id) override {
    std::lock_guard lock(m_);
    auto r = c_.run(std::string("UPDATE fleet_commands SET status = 'withdrawn', finished_at = ") +
                        kNow + " WHERE id = $1 AND status = 'queued'",
                    "withdraw command", Params().add(id));
    if (!r) return fail(r.error());
    return r->affected() == 1;
  }

  Result<std::int64_t> interrupt_commands(const std::vector<std::string>& connections) override {
    if (connections.empty()) return std::int64_t{0};
    std::lock_guard lock(m_);
    auto r = c_.run(
        std::string("WITH f AS (UPDATE fleet_commands SET status = 'interrupted', error_kind = "
                    "CASE WHEN command = 'read-settings' THEN 'transport' ELSE 'conflict' END, "
                    "error = CASE WHEN command = 'read-settings' THEN 'worker ' || worker || "
                    "' stopped while it read the settings of ' || device_id || '; ask again: "
                    "the worker taking its connection over answers' ELSE 'worker ' || worker || "
                    "' stopped while it ran ' || command || ' for ' || device_id || '; whether "
                    "the device took it is not known: read the device again before sending it "
                    "once more' END, finished_at = ") +
            kNow +
            " WHERE status = 'running' AND connection = ANY($1::text[]) RETURNING id) "
            "SELECT pg_notify('sunbridge_command_done', id::text) FROM f",
        "interrupt commands", Params().add(text_array(connections)));
    if (!r) return fail(r.error());
    return static_cast<std::int64_t>(r->rows());
  }

  Result<void> put_status(const std::string& worker,
                          const std::vector<std::pair<std::string, std::string>>& rows) override {
    if (rows.empty()) return {};
    std::vector<std::string> names, docs;
    for (const auto& [n, d] : rows) {
      names.push_back(n);
      docs.push_back(d);
    }
    std::lock_guard lock(m_);
    // Only while the lease is this worker's: a late write of a lost connection changes nothing.
    return c_.exec(
        std::string("INSERT INTO fleet_status (connection, worker, updated_at, status) SELECT "
                    "r.c, $1, ") +
            kNow +
            ", r.s FROM unnest($2::text[], $3::text[]) AS r(c, s) JOIN fleet_leases l ON "
            "l.connection = r.c AND l.worker = $1 AND l.expires_at > " +
            kNow +
            " ON CONFLICT (connection) DO UPDATE SET worker = EXCLUDED.worker, updated_at = "
            "EXCLUDED.updated_at, status = EXCLUDED.status",
        "write fleet status", Params().add(worker).add(text_array(names)).add(text_array(docs)));
  }

  Result<Reservation> reserve_calls(const std::string& account, const std::string& window,
                                    const std::string& connection, int want, int limit) override {
    std::lock_guard lock(m_);
    // The window's row made if new (and windows over 40 days old dropped then), then locked
    // and granted what is left of it.
    auto made = c_.run(std::string("INSERT INTO fleet_budgets (account, win, limit_calls, used, "
                                   "created_at) VALUES ($1, $2, $3, 0, ") +
                           kNow + ") ON CONFLICT (account, win) DO NOTHING",
                       "reserve calls", Params().add(account).add(window).add(limit));
    if (!made) return fail(made.error());
    if (made->affected() == 1)
      (void)c_.exec(std::string("DELETE FROM fleet_budgets WHERE created_at < ") + kNow +
                        " - 40 * 86400000::bigint",
                    "forget old budget windows");
    auto r = c_.run(
        "WITH g AS (SELECT used, greatest(limit_calls, $4::int) AS lim FROM fleet_budgets WHERE "
        "account = $1 AND win = $2 FOR UPDATE) UPDATE fleet_budgets f SET limit_calls = g.lim, "
        "used = g.used + least($3::int, greatest(g.lim - g.used, 0)), users = CASE WHEN "
        "$5::text = ANY(f.users) THEN f.users ELSE f.users || $5::text END FROM g WHERE "
        "f.account = $1 AND f.win "
        "= $2 RETURNING f.used - g.used, f.used, f.limit_calls, cardinality(f.users)",
        "reserve calls", Params().add(account).add(window).add(want).add(limit).add(connection));
    if (!r) return fail(r.error());
    if (r->rows() != 1)
      return fail(ErrorKind::Internal, "postgresql: reserve calls: the budget row of account '" +
                                           account + "' window " + window + " is missing");
    return Reservation{static_cast<int>(r->i64(0, 0)), static_cast<int>(r->i64(0, 1)),
                       static_cast<int>(r->i64(0, 2)), static_cast<int>(r->i64(0, 3))};
  }

  Result<Millis> pace_call(const std::string& account, const std::string& interface, Millis gap,
                           bool answered) override {
    std::lock_guard lock(m_);
    if (answered) {
      auto r =
          c_.run(std::string("INSERT INTO fleet_pacing AS p (account, interface, next_at) "
                             "VALUES ($1, $2, ") +
                     kNow +
                     " + $3) ON CONFLICT (account, interface) DO UPDATE SET next_at "
                     "= greatest(p.next_at, EXCLUDED.next_at)",
                 "pace after an answer", Params().add(account).add(interface).add(gap.count()));
      if (!r) return fail(r.error());
      return Millis(0);
    }
    // The moment taken: the row's next free one, or now if that passed; the row moves on by
    // the gap from it.
    auto r = c_.run(std::string("WITH n AS (SELECT ") + kNow +
                        " AS now) INSERT INTO fleet_pacing AS p (account, interface, next_at) "
                        "SELECT $1, $2, n.now + $3 FROM n ON CONFLICT (account, interface) DO "
                        "UPDATE SET next_at = greatest(p.next_at, (SELECT now FROM n)) + $3 "
                        "RETURNING p.next_at - $3 - (SELECT now FROM n)",
                    "pace a call", Params().add(account).add(interface).add(gap.count()));
    if (!r) return fail(r.error());
    if (r->rows() != 1)
      return fail(ErrorKind::Internal, "postgresql: pace a call: no pacing row for account '" +
                                           account + "' " + interface);
    return Millis(std::max<std::int64_t>(0, r->i64(0, 0)));
  }

  Result<std::vector<FleetStatus>> statuses(std::optional<TimePoint> changed_after) override {
    std::lock_guard lock(m_);
    auto r = c_.run(
        std::string("SELECT s.connection, s.worker, coalesce(w.api, ''), s.updated_at, CASE "
                    "WHEN s.updated_at > $1 THEN s.status ELSE '' END FROM fleet_status s JOIN "
                    "fleet_leases l ON l.connection = s.connection AND l.worker = s.worker AND "
                    "l.expires_at > ") +
            kNow + " LEFT JOIN fleet_workers w ON w.id = s.worker ORDER BY s.connection",
        "read fleet status",
        Params().add(changed_after ? to_ms(*changed_after)
                                   : std::numeric_limits<std::int64_t>::min()));
    if (!r) return fail(r.error());
    return rows_of<FleetStatus>(*r, [](const Res& x, int i) {
      return FleetStatus{x.text(i, 0), x.text(i, 1), x.text(i, 2), from_ms(x.i64(i, 3)),
                         x.text(i, 4)};
    });
  }

  Result<bool> wait_for_commands(Millis most) override {
    std::lock_guard lock(listen_m_);
    if (!listening_ || PQstatus(listen_.raw()) != CONNECTION_OK) {
      listening_ = false;
      if (auto r = listen_.connect(conninfo_, shown_); !r) return fail(r.error());
      if (auto r = listen_.exec("LISTEN sunbridge_commands", "listen for commands"); !r)
        return fail(r.error());
      listening_ = true;
      return true;  // commands may have been queued while nobody listened
    }
    auto* pg = listen_.raw();
    auto drain = [&] {
      bool any = false;
      while (PGnotify* n = PQnotifies(pg)) {
        any = true;
        PQfreemem(n);
      }
      return any;
    };
    if (drain()) return true;
    pollfd fd{PQsocket(pg), POLLIN, 0};
    if (::poll(&fd, 1, static_cast<int>(most.count())) <= 0) return false;
    if (PQconsumeInput(pg) == 0) {
      listening_ = false;
      return fail(ErrorKind::Transport,
                  "postgresql: listen for commands: " + std::string(PQerrorMessage(pg)));
    }
    return drain();
  }

 private:
  // A taken command or settings read ended: "done" (with its audit row, or the settings read)
  // or "failed" with the error; the asker is woken.
  Result<void> finish(std::int64_t id, std::string_view what, std::optional<std::int64_t> audit_id,
                      const std::string& answer, const std::optional<Error>& error) {
    std::lock_guard lock(m_);
    return c_.exec(std::string("WITH f AS (UPDATE fleet_commands SET status = $2, audit_id = $3, "
                               "answer = $4, error_kind = $5, error = $6, finished_at = ") +
                       kNow +
                       " WHERE id = $1 RETURNING id) SELECT pg_notify('sunbridge_command_done', "
                       "id::text) FROM f",
                   what,
                   Params()
                       .add(id)
                       .add(std::string(error ? "failed" : "done"))
                       .add(audit_id ? std::optional(std::to_string(*audit_id)) : std::nullopt)
                       .add(answer)
                       .add(error ? std::string(to_string(error->kind)) : std::string())
                       .add(error ? error->message : std::string()));
  }

  std::string conninfo_, shown_;
  std::mutex m_;
  Conn c_;
  std::mutex listen_m_;
  Conn listen_;  // LISTEN sunbridge_commands, alone: waiting on it blocks nothing else
  bool listening_ = false;
};

}  // namespace

}  // namespace sb::store::postgres

namespace sb::store {

Result<std::unique_ptr<Fleet>> open_fleet(const std::string& conninfo) {
  if (!is_postgres(conninfo))
    return fail(ErrorKind::InvalidArgument,
                "a fleet keeps its connections in PostgreSQL: gateway.database must be a "
                "postgresql:// URL, not '" +
                    conninfo + "'");
  if (auto problem = postgres_problem(conninfo))
    return fail(ErrorKind::InvalidArgument,
                "database '" + without_password(conninfo) + "': " + *problem);
  auto f = std::make_unique<postgres::PgFleet>(conninfo);
  if (auto r = f->open(); !r) return fail(r.error());
  return std::unique_ptr<Fleet>(std::move(f));
}

}  // namespace sb::store
