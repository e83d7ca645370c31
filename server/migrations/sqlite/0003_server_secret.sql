-- Same schema as Postgres. SQLite deployments keep the generated secret in
-- `data_dir/member-secret` instead; the table stays empty there.
CREATE TABLE server_secret (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    secret TEXT NOT NULL
);
