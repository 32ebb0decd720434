-- sunbridge on PostgreSQL, schema 3: commands across the fleet. The REST API of any worker
-- accepts a command; when another worker holds the device's connection, the command waits
-- here (NOTIFY sunbridge_commands tells the workers at once), the holder takes it (locked,
-- SKIP LOCKED), runs, reads back and audits it (the `commands` table), and writes the outcome
-- here (NOTIFY sunbridge_command_done); the worker that accepted it answers its caller.
-- Times are UTC milliseconds of the server's clock.

CREATE TABLE fleet_commands (
  id           BIGSERIAL PRIMARY KEY,
  connection   TEXT NOT NULL,
  device_id    TEXT NOT NULL,
  command      TEXT NOT NULL,              -- the command's name ("battery-power")
  value        DOUBLE PRECISION NOT NULL DEFAULT 0,
  argument     TEXT NOT NULL DEFAULT '',
  duration_s   BIGINT,                     -- how long it should hold; NULL: no lease
  requested_by TEXT NOT NULL,
  status       TEXT NOT NULL,              -- queued, running, done, failed, withdrawn, interrupted
  worker       TEXT NOT NULL DEFAULT '',   -- who took it
  audit_id     BIGINT,                     -- its row in `commands` once audited
  error_kind   TEXT NOT NULL DEFAULT '',
  error        TEXT NOT NULL DEFAULT '',
  created_at   BIGINT NOT NULL,
  finished_at  BIGINT
);
CREATE INDEX fleet_commands_open ON fleet_commands (connection, id)
  WHERE status IN ('queued', 'running');
