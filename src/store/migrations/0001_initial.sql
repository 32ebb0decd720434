-- sunbridge schema 1: sites, devices, samples, events, command audit.
-- Times are UTC milliseconds since the Unix epoch.

CREATE TABLE sites (
  id        TEXT PRIMARY KEY,
  name      TEXT NOT NULL,
  latitude  REAL NOT NULL,
  longitude REAL NOT NULL,
  timezone  TEXT NOT NULL
);

CREATE TABLE devices (
  id           TEXT PRIMARY KEY,
  site_id      TEXT NOT NULL REFERENCES sites(id),
  connection   TEXT NOT NULL,
  vendor       TEXT NOT NULL,
  kind         TEXT NOT NULL,
  manufacturer TEXT NOT NULL DEFAULT '',
  model        TEXT NOT NULL DEFAULT '',
  serial       TEXT NOT NULL DEFAULT '',
  firmware     TEXT NOT NULL DEFAULT '',
  first_seen   INTEGER NOT NULL,
  last_seen    INTEGER NOT NULL
);

-- One row per device + metric; samples refer to it by a small integer, which keeps the
-- sample key short and the B-tree dense.
CREATE TABLE series (
  id        INTEGER PRIMARY KEY,
  device_id TEXT NOT NULL,
  metric    TEXT NOT NULL,
  UNIQUE (device_id, metric)
);

-- quality: 0 measured, 1 backfilled, 2 estimated, 3 stale. A replay never duplicates a row
-- (primary key), and a better-quality value is never replaced by a worse one.
CREATE TABLE samples (
  series_id INTEGER NOT NULL,
  t         INTEGER NOT NULL,
  value     REAL NOT NULL,
  quality   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (series_id, t)
) WITHOUT ROWID;

CREATE TABLE events (
  id        INTEGER PRIMARY KEY,
  device_id TEXT NOT NULL,
  t         INTEGER NOT NULL,
  severity  INTEGER NOT NULL,
  code      TEXT NOT NULL,
  message   TEXT NOT NULL,
  UNIQUE (device_id, t, code)
);
CREATE INDEX events_by_time ON events (t);

-- The audit of every command: who asked for what, what it was before, what it read back.
CREATE TABLE commands (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  requested_at INTEGER NOT NULL,
  finished_at  INTEGER,
  requested_by TEXT NOT NULL,
  device_id    TEXT NOT NULL,
  command      TEXT NOT NULL,
  value        REAL NOT NULL,
  duration_s   INTEGER,
  status       TEXT NOT NULL,
  before_value REAL,
  after_value  REAL,
  detail       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX commands_by_device ON commands (device_id, requested_at);
