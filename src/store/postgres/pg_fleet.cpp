// The fleet's records on PostgreSQL: connections, workers, connection leases.
#include <mutex>

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

 private:
  std::string conninfo_, shown_;
  std::mutex m_;
  Conn c_;
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
