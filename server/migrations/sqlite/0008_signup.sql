-- In-store sign-up: signed sign-up links (QR codes), attribution written once on the
-- member, the brand's sign-up settings, referrals, import jobs. The two new ledger kinds
-- (`import`, `referral`) need points_ledger rebuilt on SQLite (a CHECK can't be
-- altered), with foreign keys off, which a migration's transaction can't do: see
-- `db::sqlite_ledger_kinds`, run right after the migrations.

-- One row: `member_core::dto::SignupSettings` as JSON.
CREATE TABLE signup_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    body TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE signup_links (
    id INTEGER PRIMARY KEY,
    store_id INTEGER NOT NULL REFERENCES stores (id),
    channel TEXT NOT NULL,
    staff_id INTEGER REFERENCES staff_users (id),
    -- A claim campaign given as the welcome gift.
    campaign_id INTEGER REFERENCES campaigns (id),
    label TEXT NOT NULL DEFAULT '',
    expires_at INTEGER,
    revoked_at INTEGER,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
-- A cashier's personal code is reused, not drawn anew each time.
CREATE UNIQUE INDEX signup_links_personal ON signup_links (staff_id)
    WHERE channel = 'staff' AND revoked_at IS NULL AND campaign_id IS NULL AND expires_at IS NULL;

-- Attribution: set when the member row is created, never updated.
ALTER TABLE members ADD COLUMN signup_link_id INTEGER REFERENCES signup_links (id);
ALTER TABLE members ADD COLUMN signup_store_id INTEGER REFERENCES stores (id);
ALTER TABLE members ADD COLUMN signup_channel TEXT;
ALTER TABLE members ADD COLUMN signup_staff_id INTEGER REFERENCES staff_users (id);
ALTER TABLE members ADD COLUMN gender TEXT;
ALTER TABLE members ADD COLUMN city TEXT;
ALTER TABLE members ADD COLUMN referral_code TEXT;
CREATE UNIQUE INDEX members_referral_code ON members (referral_code);
CREATE INDEX members_created ON members (created_at);
CREATE INDEX members_signup_link ON members (signup_link_id);

-- One row per referred friend; the phone is unique so a phone earns a reward once ever.
CREATE TABLE referrals (
    id INTEGER PRIMARY KEY,
    referrer_id INTEGER NOT NULL REFERENCES members (id),
    friend_id INTEGER NOT NULL UNIQUE REFERENCES members (id),
    friend_phone TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('held', 'rewarded', 'capped')),
    -- Local day number of the sign-up (the daily cap counts per day).
    local_day INTEGER NOT NULL,
    -- What each side gets, fixed at sign-up: a later change of the rules doesn't change
    -- what a friend who has joined was promised.
    referrer_points INTEGER NOT NULL DEFAULT 0,
    friend_points INTEGER NOT NULL DEFAULT 0,
    referrer_campaign_id INTEGER REFERENCES campaigns (id),
    friend_campaign_id INTEGER REFERENCES campaigns (id),
    created_at INTEGER NOT NULL,
    rewarded_at INTEGER
);
CREATE INDEX referrals_referrer ON referrals (referrer_id, local_day);

CREATE TABLE import_jobs (
    id INTEGER PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    rows INTEGER NOT NULL,
    processed INTEGER NOT NULL DEFAULT 0,
    report TEXT,
    error TEXT,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    -- Progress heartbeat: a running job not updated for 5 minutes has stopped.
    updated_at INTEGER NOT NULL,
    finished_at INTEGER
);

