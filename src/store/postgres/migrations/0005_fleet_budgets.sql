-- sunbridge on PostgreSQL, schema 5: the call budgets of vendor accounts, shared by the fleet's
-- workers. A window is a period of the vendor's counting ("day:20400", "month:675",
-- "minute:29376000"); each connection of the account reserves small slices of it before its
-- calls, under a row lock, so that all of them together never pass its limit (the largest limit
-- any of them gave). Windows older than 40 days are dropped as new ones come.

CREATE TABLE fleet_budgets (
  account     TEXT NOT NULL,
  win         TEXT NOT NULL,
  limit_calls INTEGER NOT NULL,
  used        INTEGER NOT NULL,
  users       TEXT[] NOT NULL DEFAULT '{}',  -- the connections that reserved in the window
  created_at  BIGINT NOT NULL,
  PRIMARY KEY (account, win)
);
