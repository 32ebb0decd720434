-- sunbridge on PostgreSQL, schema 4: what every worker sees of the fleet. The worker holding a
-- connection writes, every few seconds, its health and its devices' live values and
-- capabilities (a JSON document the engine writes and reads, engine/fleet_status.hpp); any
-- worker's REST API and dashboard show the whole fleet from these rows. A row counts only
-- while its writer still holds the connection's lease.

CREATE TABLE fleet_status (
  connection TEXT PRIMARY KEY REFERENCES fleet_connections(name) ON DELETE CASCADE,
  worker     TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  status     TEXT NOT NULL
);
