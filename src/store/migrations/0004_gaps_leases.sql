-- sunbridge schema 4: gaps in history (found after an outage, filled from the vendor's history
-- where it has any, kept as records of what could not be filled) and leases (commands that
-- hold for a while and are handed back when they end, at a stop, or at the next start).

-- metric '' stands for every metric of the device (the hole as found); a metric's own row
-- (parent_id set) says what the vendor's history did not give.
CREATE TABLE gaps (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  device_id    TEXT NOT NULL,
  metric       TEXT NOT NULL DEFAULT '',
  t_from       INTEGER NOT NULL,
  t_to         INTEGER NOT NULL,
  reason       TEXT NOT NULL,
  status       TEXT NOT NULL,
  detail       TEXT NOT NULL DEFAULT '',
  filled       INTEGER NOT NULL DEFAULT 0,
  attempts     INTEGER NOT NULL DEFAULT 0,
  done_until   INTEGER NOT NULL,
  next_attempt INTEGER,
  parent_id    INTEGER,
  detected_at  INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  UNIQUE (device_id, metric, t_from)
);
CREATE INDEX gaps_by_status ON gaps (status, device_id);
CREATE INDEX gaps_by_time ON gaps (t_to);

-- restore: what hands control back (the driver's hand-back text for a setpoint, the previous
-- value for a setting).
CREATE TABLE leases (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  command_id   INTEGER NOT NULL,
  device_id    TEXT NOT NULL,
  command      TEXT NOT NULL,
  value        REAL NOT NULL,
  argument     TEXT NOT NULL DEFAULT '',
  requested_by TEXT NOT NULL,
  started_at   INTEGER NOT NULL,
  until        INTEGER NOT NULL,
  restore      TEXT NOT NULL DEFAULT '',
  state        TEXT NOT NULL,
  ended_at     INTEGER,
  detail       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX leases_by_state ON leases (state, device_id);

-- Device counter resets (a replaced meter, a firmware reset): from t on, the device's raw
-- counter is stored with `offset` added, so that lifetime counters stay monotonic.
CREATE TABLE counter_resets (
  device_id TEXT NOT NULL,
  metric    TEXT NOT NULL,
  t         INTEGER NOT NULL,
  offset    REAL NOT NULL,
  raw_before REAL NOT NULL,
  raw_after  REAL NOT NULL,
  PRIMARY KEY (device_id, metric, t)
) WITHOUT ROWID;
