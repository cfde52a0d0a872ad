-- When each name was registered, by the database's clock: the nodes of a cluster read the
-- names registered lately (by any node) every second, whatever their own clocks say.
ALTER TABLE accounts ADD COLUMN registered_at TIMESTAMPTZ NOT NULL DEFAULT now();
CREATE INDEX accounts_by_registration ON accounts (registered_at);
