-- The generated MEMBER_SECRET when none is configured: one row, shared by every
-- instance on this database (a per-instance file would make them reject each other's
-- sessions). Unused when MEMBER_SECRET is set.
CREATE TABLE server_secret (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    secret TEXT NOT NULL
);
