-- Full-text search over what messages say now. FTS5 keeps the words only (contentless: the text
-- stays in `messages` alone), under a number of its own that `search_rows` maps to the message;
-- triggers keep it in step with every write, whichever the way in (a post, an edit, a deletion,
-- retention, an import). Numbers follow the time messages were written, so the newest come first
-- by number. Words are runs of letters and digits, compared without case but with their accents
-- (as PostgreSQL's `simple` configuration does). Only which messages have a word is kept, not
-- where in them (`detail = none`): a search asks for words, not phrases, and writing positions
-- would cost every post.
CREATE TABLE search_rows (
    id   INTEGER PRIMARY KEY,
    room TEXT    NOT NULL,
    seq  INTEGER NOT NULL,
    UNIQUE (room, seq)
);

CREATE VIRTUAL TABLE search_words USING fts5(
    text,
    content = '',
    contentless_delete = 1,
    detail = none,
    tokenize = 'unicode61 remove_diacritics 0'
);

CREATE TRIGGER search_on_insert AFTER INSERT ON messages
WHEN new.kind = 0 AND new.deleted_at IS NULL AND new.text <> ''
BEGIN
    INSERT INTO search_rows (room, seq) VALUES (new.room, new.seq);
    INSERT INTO search_words (rowid, text)
        SELECT id, new.text FROM search_rows WHERE room = new.room AND seq = new.seq;
END;

CREATE TRIGGER search_on_update AFTER UPDATE OF text, deleted_at ON messages
WHEN new.kind = 0
BEGIN
    DELETE FROM search_words WHERE rowid = (SELECT id FROM search_rows WHERE room = old.room AND seq = old.seq);
    DELETE FROM search_rows WHERE room = old.room AND seq = old.seq;
    INSERT INTO search_rows (room, seq)
        SELECT new.room, new.seq WHERE new.deleted_at IS NULL AND new.text <> '';
    INSERT INTO search_words (rowid, text)
        SELECT id, new.text FROM search_rows
        WHERE room = new.room AND seq = new.seq AND new.deleted_at IS NULL AND new.text <> '';
END;

CREATE TRIGGER search_on_delete AFTER DELETE ON messages
WHEN old.kind = 0
BEGIN
    DELETE FROM search_words WHERE rowid = (SELECT id FROM search_rows WHERE room = old.room AND seq = old.seq);
    DELETE FROM search_rows WHERE room = old.room AND seq = old.seq;
END;

-- What the log holds already, oldest first.
INSERT INTO search_rows (room, seq)
    SELECT room, seq FROM messages WHERE kind = 0 AND deleted_at IS NULL AND text <> '' ORDER BY at, room, seq;
INSERT INTO search_words (rowid, text)
    SELECT s.id, m.text FROM search_rows s JOIN messages m ON m.room = s.room AND m.seq = s.seq;
