-- A resend is recognised by the session that sent the original, not by its nickname: someone who
-- later holds the same nickname and reuses an id is not taken for a resend. Rows from before have
-- no session and are never matched.
ALTER TABLE messages ADD COLUMN session TEXT;
DROP INDEX messages_client_id;
CREATE UNIQUE INDEX messages_resend ON messages (room, session, client_id) WHERE client_id IS NOT NULL;

-- When each room's last message was posted, kept by every append: the room list reads the most
-- recently active rooms from an index, however many rooms there are.
ALTER TABLE rooms ADD COLUMN last_at INTEGER NOT NULL DEFAULT 0;
UPDATE rooms SET last_at = COALESCE(
    (SELECT m.at FROM messages m WHERE m.room = rooms.name ORDER BY m.seq DESC LIMIT 1), 0);
CREATE INDEX rooms_by_activity ON rooms (last_at DESC, name);
