-- sunbridge on PostgreSQL, schema 2: the fleet. Its connections live here instead of in each
-- worker's YAML (their settings sealed by the workers' key: AES-256-GCM, so a dump of the
-- database shows no vendor secret); each is held by one worker at a time through a lease
-- with an expiry and an epoch that grows with every new holder; workers say they are alive.
-- Times are UTC milliseconds of the server's clock, so workers on several machines agree.

CREATE TABLE fleet_connections (
  name       TEXT PRIMARY KEY,
  site_id    TEXT NOT NULL REFERENCES sites(id),
  vendor     TEXT NOT NULL,
  account    TEXT NOT NULL DEFAULT '',  -- the vendor account whose budget it shares
  sealed     TEXT NOT NULL,             -- base64 of nonce, ciphertext and tag
  updated_at BIGINT NOT NULL
);

CREATE TABLE fleet_workers (
  id         TEXT PRIMARY KEY,
  host       TEXT NOT NULL,
  pid        BIGINT NOT NULL,
  api        TEXT NOT NULL DEFAULT '',
  started_at BIGINT NOT NULL,
  seen_at    BIGINT NOT NULL
);

-- Every connection has its lease row from the start (worker '', epoch 0, expires_at 0). A lease
-- that has expired (or was handed back: expires_at 0) may be claimed by any worker, which
-- raises the epoch: a worker that held an older epoch has lost it. Claims lock these rows.
CREATE TABLE fleet_leases (
  connection TEXT PRIMARY KEY REFERENCES fleet_connections(name) ON DELETE CASCADE,
  worker     TEXT NOT NULL,
  epoch      BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX fleet_leases_by_worker ON fleet_leases (worker);
