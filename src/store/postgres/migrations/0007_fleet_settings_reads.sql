-- sunbridge on PostgreSQL, schema 7: reads of a device's settings through the command queue.
-- A worker asked for the settings of a device another worker polls queues a row whose command
-- is 'read-settings' (value 1: read the device now, 0: as last read); the holder takes it like
-- a command, reads the settings and leaves them here as a JSON document for the asker.

ALTER TABLE fleet_commands ADD COLUMN answer TEXT NOT NULL DEFAULT '';
