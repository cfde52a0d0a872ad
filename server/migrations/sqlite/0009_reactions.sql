-- Reactions are entries of the log like edits (kind 4: `text` is `+` or `-` and the emoji, on
-- the message numbered `target`), so that resume carries them; the message's own row holds its
-- reactions as they stand (JSON, NULL for none), so that history reads them with the message.
ALTER TABLE messages ADD COLUMN reactions TEXT;
-- The audit is deletions and moderators' actions only (kinds 2 and 3), no longer every kind
-- from 2 on. The query's predicate must read `kind IN (2, 3)` for this to be used.
DROP INDEX messages_actions;
CREATE INDEX messages_actions ON messages (room, seq) WHERE kind IN (2, 3);
