-- Retention: the last number of a room's log whose messages were forgotten (0: none), so that a
-- client asking to resume behind it is reset instead of silently missing what is gone; and the
-- room owner's own retention (NULL: the server's).
ALTER TABLE rooms ADD COLUMN horizon INTEGER NOT NULL DEFAULT 0;
ALTER TABLE room_settings ADD COLUMN retention_days INTEGER;
