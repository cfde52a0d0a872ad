-- Outgoing webhooks: a URL each new message of a room is POSTed to, signed with the secret.
-- `delivered` is the last number of the room's log (in `epoch`) the receiver took or that was
-- passed over, so delivery resumes there after a restart, on whichever node holds the lease.
CREATE TABLE webhooks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    room        TEXT    NOT NULL,
    url         TEXT    NOT NULL,
    secret      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    epoch       INTEGER NOT NULL,
    delivered   INTEGER NOT NULL,
    lease_owner TEXT    NOT NULL DEFAULT '',
    lease_until INTEGER NOT NULL DEFAULT 0,
    failures    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT    NOT NULL DEFAULT ''
);
