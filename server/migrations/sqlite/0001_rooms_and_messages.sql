-- One row per room that has a log: its epoch and the last sequence number handed out.
CREATE TABLE rooms (
    name     TEXT    PRIMARY KEY NOT NULL,
    epoch    INTEGER NOT NULL,
    last_seq INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE messages (
    room      TEXT    NOT NULL,
    seq       INTEGER NOT NULL,
    author    TEXT    NOT NULL,
    text      TEXT    NOT NULL,
    at        INTEGER NOT NULL,
    client_id TEXT,
    PRIMARY KEY (room, seq)
) WITHOUT ROWID;

-- A resend of the same message (same author, same client id) is recognised, not stored again.
CREATE UNIQUE INDEX messages_client_id ON messages (room, author, client_id) WHERE client_id IS NOT NULL;
