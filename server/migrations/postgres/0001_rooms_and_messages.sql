-- One row per room that has a log: its epoch and the last sequence number handed out. Appending
-- locks the room's row, so several server processes sharing this database number one room's
-- messages without gaps or races.
CREATE TABLE rooms (
    name     TEXT   PRIMARY KEY,
    epoch    BIGINT NOT NULL,
    last_seq BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE messages (
    room      TEXT   NOT NULL,
    seq       BIGINT NOT NULL,
    author    TEXT   NOT NULL,
    text      TEXT   NOT NULL,
    at        BIGINT NOT NULL,
    client_id TEXT,
    PRIMARY KEY (room, seq)
);

-- A resend of the same message (same author, same client id) is recognised, not stored again.
CREATE UNIQUE INDEX messages_client_id ON messages (room, author, client_id) WHERE client_id IS NOT NULL;
