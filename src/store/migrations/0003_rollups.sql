-- sunbridge schema 3: hourly rollups of every series, kept by the writer with each batch, so
-- that history over weeks and months reads one row an hour instead of every sample.
-- n samples in the hour, their sum, lowest and highest value, the value of the latest one,
-- and the worst quality among them.
CREATE TABLE rollups_hour (
  series_id INTEGER NOT NULL,
  t         INTEGER NOT NULL,
  n         INTEGER NOT NULL,
  total     REAL NOT NULL,
  lo        REAL NOT NULL,
  hi        REAL NOT NULL,
  last      REAL NOT NULL,
  quality   INTEGER NOT NULL,
  PRIMARY KEY (series_id, t)
) WITHOUT ROWID;

INSERT INTO rollups_hour
SELECT a.series_id, a.h, a.n, a.total, a.lo, a.hi, s.value, a.q
FROM (SELECT series_id, (t / 3600000) * 3600000 AS h, count(*) AS n, sum(value) AS total,
             min(value) AS lo, max(value) AS hi, max(t) AS mt, max(quality) AS q
      FROM samples GROUP BY series_id, h) AS a
JOIN samples AS s ON s.series_id = a.series_id AND s.t = a.mt;
