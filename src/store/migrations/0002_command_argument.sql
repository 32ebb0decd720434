-- Commands with a text argument (battery strategy, weekly time-control plan).
ALTER TABLE commands ADD COLUMN argument TEXT NOT NULL DEFAULT '';
