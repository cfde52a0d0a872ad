-- Who runs each room: its owner (role 2, one at most) and its moderators (role 1), by account.
CREATE TABLE room_roles (
    room     TEXT    NOT NULL,
    account  TEXT    NOT NULL,
    nickname TEXT    NOT NULL,
    role     INTEGER NOT NULL,
    PRIMARY KEY (room, account)
) WITHOUT ROWID;
CREATE UNIQUE INDEX room_owner ON room_roles (room) WHERE role = 2;

-- A room's topic and slow mode (seconds between one member's messages; 0: off).
CREATE TABLE room_settings (
    room      TEXT    PRIMARY KEY NOT NULL,
    topic     TEXT    NOT NULL DEFAULT '',
    slow_mode INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- Timeouts (kind 1) and bans (kind 2) in force: one row per room, kind and subject (a session,
-- `s:<id>`, or an address, `a:<key>`), under the name they were given for (its folded form, by
-- which they are lifted). `until`: NULL for good.
CREATE TABLE sanctions (
    room    TEXT    NOT NULL,
    kind    INTEGER NOT NULL,
    subject TEXT    NOT NULL,
    name    TEXT    NOT NULL,
    until   INTEGER,
    reason  TEXT    NOT NULL,
    by_name TEXT    NOT NULL,
    at      INTEGER NOT NULL,
    PRIMARY KEY (room, kind, subject)
) WITHOUT ROWID;
