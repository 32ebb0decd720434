-- sunbridge on PostgreSQL, schema 6: the per-interface pacing of vendor accounts across the
-- fleet (FoxESS: one call of an interface a second per API key, a write every two seconds).
-- Each call first takes the interface's next free moment: the row moves on by the gap under its
-- row lock, so calls of all the account's connections, on any worker, keep the gap between
-- them. Times are UTC milliseconds of the server's clock.

CREATE TABLE fleet_pacing (
  account   TEXT NOT NULL,
  interface TEXT NOT NULL,
  next_at   BIGINT NOT NULL,  -- the earliest moment the next call may go
  PRIMARY KEY (account, interface)
);
