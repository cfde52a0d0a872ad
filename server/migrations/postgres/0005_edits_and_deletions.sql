-- Edits and deletions are entries of the log like messages (kind 1: an edit, 2: a deletion, of
-- the message numbered `target`), so that resume carries them; the message they change is
-- changed in place too (its text replaced, or emptied when deleted), so that history reads each
-- message as it is now.
ALTER TABLE messages ADD COLUMN kind SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN target BIGINT;
ALTER TABLE messages ADD COLUMN edited_at BIGINT;
ALTER TABLE messages ADD COLUMN deleted_at BIGINT;
-- A deletion empties the edits of its message too.
CREATE INDEX messages_edits ON messages (room, target) WHERE target IS NOT NULL;
