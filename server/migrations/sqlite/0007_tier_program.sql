-- The tier program: versioned rules (JSON, `member_core::dto::TierProgram`), growth as
-- events (so a window can drop old growth and history shows every change), evaluation
-- periods on the member, tier changes, the member's inbox and job leases.
--
-- `members.growth` stays the growth that counts now (the window's sum, never below 0);
-- `members.window_spend_cents` the same for spend. Both move by increments on purchases
-- and refunds and are recounted by the tier job when an event leaves the window
-- (`growth_recount_at` = the earliest `counts_until` still ahead).

CREATE TABLE tier_program_versions (
    id INTEGER PRIMARY KEY,
    effective_from INTEGER NOT NULL,
    program TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX tier_program_versions_from ON tier_program_versions (effective_from, id);

CREATE TABLE growth_events (
    id INTEGER PRIMARY KEY,
    member_id INTEGER NOT NULL REFERENCES members (id),
    kind TEXT NOT NULL CHECK (kind IN ('purchase', 'refund', 'task', 'decay', 'adjust', 'import')),
    growth INTEGER NOT NULL,
    spend_cents INTEGER NOT NULL DEFAULT 0,
    -- Order reference, task name.
    note TEXT NOT NULL DEFAULT '',
    at INTEGER NOT NULL,
    -- When it stops counting for the window (the rule of its time); NULL = never.
    counts_until INTEGER,
    -- 1 when it counts for evaluation periods (decay doesn't).
    in_period INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX growth_events_member ON growth_events (member_id, at);

-- Tasks done, once per period ('' = once ever, the local date for check-ins).
CREATE TABLE growth_tasks (
    member_id INTEGER NOT NULL REFERENCES members (id),
    task TEXT NOT NULL,
    period TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (member_id, task, period)
);

CREATE TABLE tier_changes (
    id INTEGER PRIMARY KEY,
    member_id INTEGER NOT NULL REFERENCES members (id),
    kind TEXT NOT NULL CHECK (kind IN ('upgraded', 'kept', 'downgraded', 'raised')),
    from_tier TEXT NOT NULL,
    to_tier TEXT NOT NULL,
    -- The evaluated period's end (evaluations only; NULL for upgrades).
    period_end INTEGER,
    period_growth INTEGER,
    version_id INTEGER,
    at INTEGER NOT NULL,
    UNIQUE (member_id, period_end)
);
CREATE INDEX tier_changes_member ON tier_changes (member_id, id);

CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    member_id INTEGER NOT NULL REFERENCES members (id),
    kind TEXT NOT NULL
        CHECK (kind IN ('upgraded', 'downgrade_warning', 'downgraded', 'kept', 'member_day')),
    -- One message per fact: `warn:<period_end>`, `member_day:<date>`, `upgrade:<at>:<tier>`.
    dedupe TEXT NOT NULL,
    -- JSON `member_core::dto::NotificationData`.
    data TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    read_at INTEGER,
    UNIQUE (member_id, dedupe)
);
CREATE INDEX notifications_member ON notifications (member_id, id);

-- One instance at a time runs a leased job; a crashed holder's lease runs out.
CREATE TABLE job_leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until INTEGER NOT NULL
);

ALTER TABLE members ADD COLUMN tier_since INTEGER;
ALTER TABLE members ADD COLUMN period_start INTEGER;
ALTER TABLE members ADD COLUMN period_end INTEGER;
-- The period_end a downgrade warning was decided for.
ALTER TABLE members ADD COLUMN warned_for INTEGER;
ALTER TABLE members ADD COLUMN window_spend_cents INTEGER NOT NULL DEFAULT 0
    CHECK (window_spend_cents >= 0);
ALTER TABLE members ADD COLUMN growth_recount_at INTEGER;
-- After an evaluation drops a tier, growth counts only from the evaluated period's start
-- (so the growth that was judged too little doesn't upgrade the member straight back).
ALTER TABLE members ADD COLUMN growth_since INTEGER;
-- Local day number (days since 1970-01-01 in Asia/Shanghai) decay was applied through.
ALTER TABLE members ADD COLUMN decayed_through INTEGER;
CREATE INDEX members_period_end ON members (period_end);
CREATE INDEX members_growth_recount ON members (growth_recount_at);

-- Growth so far becomes events (lifetime: the only window there was).
INSERT INTO growth_events (member_id, kind, growth, spend_cents, note, at, counts_until, in_period)
SELECT member_id, 'purchase', growth_earned, amount_cents - discount_cents, order_ref, created_at,
       NULL, 1
FROM purchases;
INSERT INTO growth_events (member_id, kind, growth, spend_cents, note, at, counts_until, in_period)
SELECT member_id, 'refund', -growth_earned, -(amount_cents - discount_cents), order_ref,
       refunded_at, NULL, 1
FROM purchases WHERE refunded_at IS NOT NULL;
UPDATE members SET window_spend_cents = COALESCE(
    (SELECT SUM(p.amount_cents - p.discount_cents) FROM purchases p
     WHERE p.member_id = members.id AND p.refunded_at IS NULL), 0);

-- Issue 5 follow-ups (a review): claim links count every grant and coupons count per
-- member even without a limit, so a cap or limit set later counts what came before.
UPDATE campaigns SET granted_count = (SELECT COUNT(*) FROM campaign_grants g
                                      WHERE g.campaign_id = campaigns.id)
WHERE kind = 'claim';
INSERT INTO coupon_member_counts (member_id, template_id, issued)
SELECT member_id, template_id, COUNT(*) FROM coupons WHERE status <> 'void'
GROUP BY member_id, template_id
ON CONFLICT (member_id, template_id) DO UPDATE SET issued = excluded.issued;
