-- Outgoing webhooks: a URL each new message of a room is POSTed to, signed with the secret.
-- `delivered` is the last number of the room's log (in `epoch`) the receiver took or that was
-- passed over, so delivery resumes there after a restart, on whichever node holds the lease.
CREATE TABLE webhooks (
    id          BIGSERIAL PRIMARY KEY,
    room        TEXT   NOT NULL,
    url         TEXT   NOT NULL,
    secret      TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    epoch       BIGINT NOT NULL,
    delivered   BIGINT NOT NULL,
    lease_owner TEXT   NOT NULL DEFAULT '',
    lease_until BIGINT NOT NULL DEFAULT 0,
    failures    BIGINT NOT NULL DEFAULT 0,
    last_error  TEXT   NOT NULL DEFAULT ''
);
