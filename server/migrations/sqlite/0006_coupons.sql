-- Coupons: templates (what a coupon gives and its rules), the coupons in members'
-- wallets, and the campaigns that issue them. Issued coupons never change their rules:
-- a template's benefit, minimum spend, stacking and stores are fixed once created.

CREATE TABLE coupon_templates (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL CHECK (kind IN ('amount', 'percent', 'gift')),
    amount_off_cents INTEGER NOT NULL DEFAULT 0 CHECK (amount_off_cents >= 0),
    percent_off INTEGER NOT NULL DEFAULT 0 CHECK (percent_off >= 0 AND percent_off < 100),
    cap_cents INTEGER CHECK (cap_cents IS NULL OR cap_cents > 0),
    gift_name TEXT,
    min_spend_cents INTEGER NOT NULL DEFAULT 0 CHECK (min_spend_cents >= 0),
    stackable INTEGER NOT NULL DEFAULT 0,
    -- Comma-separated store codes; '' = every store.
    store_codes TEXT NOT NULL DEFAULT '',
    -- Either a fixed window (valid_from, valid_until) or valid_days from issue.
    valid_from INTEGER,
    valid_until INTEGER,
    valid_days INTEGER CHECK (valid_days IS NULL OR valid_days > 0),
    total_limit INTEGER CHECK (total_limit IS NULL OR total_limit >= 0),
    issued_count INTEGER NOT NULL DEFAULT 0 CHECK (issued_count >= 0),
    per_member_limit INTEGER CHECK (per_member_limit IS NULL OR per_member_limit > 0),
    required_tier_code TEXT REFERENCES tiers (code),
    active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    CHECK (total_limit IS NULL OR issued_count <= total_limit)
);

CREATE TABLE coupons (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    template_id INTEGER NOT NULL REFERENCES coupon_templates (id),
    member_id INTEGER NOT NULL REFERENCES members (id),
    -- signup, upgrade, birthday, member_day, winback, manual, claim, mall
    source TEXT NOT NULL,
    -- The campaign grant (campaign:<id>:<period>) or mall order code it came from.
    source_ref TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('issued', 'used', 'void')),
    valid_from INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    issued_at INTEGER NOT NULL,
    seen INTEGER NOT NULL DEFAULT 0,
    used_at INTEGER,
    used_purchase_id INTEGER REFERENCES purchases (id),
    used_store_id INTEGER REFERENCES stores (id),
    discount_cents INTEGER,
    CHECK ((status = 'used') = (used_at IS NOT NULL))
);
CREATE INDEX coupons_member ON coupons (member_id, status, expires_at);
CREATE INDEX coupons_template ON coupons (template_id, status);
CREATE INDEX coupons_purchase ON coupons (used_purchase_id);

-- Coupons of a template each member has received, moved by conditional upserts so the
-- per-member limit holds under concurrency.
CREATE TABLE coupon_member_counts (
    member_id INTEGER NOT NULL REFERENCES members (id),
    template_id INTEGER NOT NULL REFERENCES coupon_templates (id),
    issued INTEGER NOT NULL CHECK (issued >= 0),
    PRIMARY KEY (member_id, template_id)
);

CREATE TABLE campaigns (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('signup', 'upgrade', 'birthday', 'member_day', 'winback', 'claim', 'manual')),
    name TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    tier_code TEXT REFERENCES tiers (code),
    birthday_window TEXT CHECK (birthday_window IS NULL OR birthday_window IN ('month', 'week')),
    member_day TEXT,
    lapse_days INTEGER CHECK (lapse_days IS NULL OR lapse_days > 0),
    claim_token TEXT UNIQUE,
    total_cap INTEGER CHECK (total_cap IS NULL OR total_cap >= 0),
    granted_count INTEGER NOT NULL DEFAULT 0 CHECK (granted_count >= 0),
    starts_at INTEGER,
    ends_at INTEGER,
    -- Manual issues: the admin's Idempotency-Key, so a retried issue finds its campaign.
    request_key TEXT UNIQUE,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    CHECK (total_cap IS NULL OR granted_count <= total_cap)
);
CREATE INDEX campaigns_kind ON campaigns (kind, active);

CREATE TABLE campaign_coupons (
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    template_id INTEGER NOT NULL REFERENCES coupon_templates (id),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (campaign_id, template_id)
);

-- One row per campaign, member and period: the unique key makes every issuance
-- idempotent (a job run twice, two instances at once, a retried claim). Period: '' for
-- once-ever campaigns, the year for birthdays, the local date for member days, the last
-- purchase time for win-back.
CREATE TABLE campaign_grants (
    id INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    member_id INTEGER NOT NULL REFERENCES members (id),
    period TEXT NOT NULL,
    coupons_issued INTEGER NOT NULL DEFAULT 0,
    granted_at INTEGER NOT NULL,
    -- Win-back: the first purchase after the grant.
    returned_at INTEGER,
    UNIQUE (campaign_id, member_id, period)
);
CREATE INDEX campaign_grants_member ON campaign_grants (member_id);

ALTER TABLE members ADD COLUMN birth_year INTEGER;
ALTER TABLE members ADD COLUMN birth_month INTEGER;
ALTER TABLE members ADD COLUMN birth_day INTEGER;
ALTER TABLE members ADD COLUMN birthday_set_at INTEGER;
ALTER TABLE members ADD COLUMN last_purchase_at INTEGER;
CREATE INDEX members_birthday ON members (birth_month, birth_day);
CREATE INDEX members_last_purchase ON members (last_purchase_at);
UPDATE members SET last_purchase_at = (SELECT MAX(created_at) FROM purchases p WHERE p.member_id = members.id);

ALTER TABLE purchases ADD COLUMN discount_cents INTEGER NOT NULL DEFAULT 0;

-- Mall items that put coupons in the wallet instead of being collected in store.
ALTER TABLE mall_items ADD COLUMN coupon_template_id INTEGER REFERENCES coupon_templates (id);
