-- Times are unix seconds (UTC); money is fen; flags are 0/1 integers (portable across
-- the two backends through sqlx's Any driver).

CREATE TABLE stores (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE staff_users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('cashier', 'manager', 'admin')),
    store_id INTEGER REFERENCES stores (id),
    active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
);

CREATE TABLE tiers (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    growth_threshold INTEGER NOT NULL UNIQUE CHECK (growth_threshold >= 0),
    points_per_yuan_pct INTEGER NOT NULL CHECK (points_per_yuan_pct >= 0)
);

CREATE TABLE members (
    id INTEGER PRIMARY KEY,
    member_no TEXT NOT NULL UNIQUE,
    phone TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    tier_code TEXT NOT NULL REFERENCES tiers (code),
    points INTEGER NOT NULL DEFAULT 0 CHECK (points >= 0),
    growth INTEGER NOT NULL DEFAULT 0 CHECK (growth >= 0),
    card_key BLOB NOT NULL,
    last_code_step INTEGER,
    privacy_consent_at INTEGER NOT NULL,
    marketing_consent INTEGER NOT NULL DEFAULT 0,
    marketing_consent_at INTEGER,
    created_at INTEGER NOT NULL
);

CREATE TABLE points_ledger (
    id INTEGER PRIMARY KEY,
    member_id INTEGER NOT NULL REFERENCES members (id),
    kind TEXT NOT NULL CHECK (kind IN ('earn', 'redeem', 'expire', 'adjust', 'refund')),
    points INTEGER NOT NULL,
    reason TEXT NOT NULL,
    source_ref TEXT,
    actor TEXT NOT NULL,
    store_id INTEGER REFERENCES stores (id),
    created_at INTEGER NOT NULL
);
CREATE INDEX points_ledger_member ON points_ledger (member_id, id);

CREATE TABLE purchases (
    id INTEGER PRIMARY KEY,
    member_id INTEGER NOT NULL REFERENCES members (id),
    store_id INTEGER NOT NULL REFERENCES stores (id),
    staff_id INTEGER NOT NULL REFERENCES staff_users (id),
    order_ref TEXT NOT NULL,
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
    points_earned INTEGER NOT NULL,
    growth_earned INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (store_id, order_ref)
);
CREATE INDEX purchases_member ON purchases (member_id);

CREATE TABLE otp_codes (
    id INTEGER PRIMARY KEY,
    phone TEXT NOT NULL,
    code_hmac TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    consumed INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE INDEX otp_codes_phone ON otp_codes (phone, id);
CREATE INDEX otp_codes_expires ON otp_codes (expires_at);

-- One row per phone; updated by a conditional upsert so the per-phone limits hold
-- even with several server instances.
CREATE TABLE otp_phone_limits (
    phone TEXT PRIMARY KEY,
    last_sent_at INTEGER NOT NULL,
    window_start INTEGER NOT NULL,
    window_count INTEGER NOT NULL
);

CREATE TABLE otp_sends (
    id INTEGER PRIMARY KEY,
    phone TEXT NOT NULL,
    ip TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX otp_sends_ip ON otp_sends (ip, at);
CREATE INDEX otp_sends_at ON otp_sends (at);

CREATE TABLE login_attempts (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    ip TEXT NOT NULL,
    ok INTEGER NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX login_attempts_username ON login_attempts (username, at);
CREATE INDEX login_attempts_ip ON login_attempts (ip, at);

CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    token_hmac TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('member', 'staff')),
    subject_id INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE idempotency_keys (
    id INTEGER PRIMARY KEY,
    scope TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'done')),
    response_status INTEGER,
    response_body TEXT,
    created_at INTEGER NOT NULL,
    UNIQUE (scope, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    to_phone TEXT NOT NULL,
    text TEXT NOT NULL,
    code TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
