-- Registered nicknames. `name_key` is the nickname's form that tells lookalikes apart from
-- nobody (`Ann`, `ann` and `Аnn` with a Cyrillic A are one account); `nickname` is how its owner
-- writes it. `password` is an Argon2id hash in the PHC string format.
CREATE TABLE accounts (
    name_key   TEXT    PRIMARY KEY NOT NULL,
    nickname   TEXT    NOT NULL,
    password   TEXT    NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;

-- The sessions an account is logged in with, one per device or browser: a session token naming
-- a registered nickname is honoured only while its row is here, so logging out, revoking a
-- session and changing the password end it everywhere.
CREATE TABLE logins (
    session    TEXT    PRIMARY KEY NOT NULL,
    account    TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    agent      TEXT    NOT NULL
) WITHOUT ROWID;
CREATE INDEX logins_by_account ON logins (account);
