-- A room's audit (its deletions, kind 2, and moderators' actions, kind 3), newest first, without
-- reading through its messages. The query's predicate must read `kind >= 2` for this to be used.
CREATE INDEX messages_actions ON messages (room, seq) WHERE kind >= 2;
