-- Points as batches with an expiry, the points mall, and purchase refunds.

-- The program's expiry rule for newly earned points (one row). See
-- member_core::points::ExpiryRule: never / days / month_end / year_end with `n`.
CREATE TABLE points_policy (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    expiry_kind TEXT NOT NULL CHECK (expiry_kind IN ('never', 'days', 'month_end', 'year_end')),
    expiry_n INTEGER NOT NULL CHECK (expiry_n >= 0),
    updated_at INTEGER NOT NULL
);
-- Points earned this year stay valid through the end of next year.
INSERT INTO points_policy (id, expiry_kind, expiry_n, updated_at) VALUES (1, 'year_end', 1, 0);

-- Every credit creates a batch; spending takes from batches (soonest expiry first) and
-- records what it took in points_allocations, so a cancellation can put the points back
-- where they came from. Invariant: members.points = SUM(remaining) = SUM(ledger points).
CREATE TABLE points_batches (
    id INTEGER PRIMARY KEY,
    member_id INTEGER NOT NULL REFERENCES members (id),
    ledger_id INTEGER REFERENCES points_ledger (id),
    points INTEGER NOT NULL CHECK (points > 0),
    remaining INTEGER NOT NULL CHECK (remaining >= 0 AND remaining <= points),
    expires_at INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX points_batches_member ON points_batches (member_id, remaining);
CREATE INDEX points_batches_due ON points_batches (expires_at, remaining);
CREATE INDEX points_batches_ledger ON points_batches (ledger_id);

CREATE TABLE points_allocations (
    id INTEGER PRIMARY KEY,
    ledger_id INTEGER NOT NULL REFERENCES points_ledger (id),
    batch_id INTEGER NOT NULL REFERENCES points_batches (id),
    points INTEGER NOT NULL CHECK (points > 0)
);
CREATE INDEX points_allocations_ledger ON points_allocations (ledger_id);

-- Balances from before batches existed become one never-expiring batch each.
INSERT INTO points_batches (member_id, ledger_id, points, remaining, expires_at, created_at)
SELECT id, NULL, points, points, NULL, created_at FROM members WHERE points > 0;

ALTER TABLE purchases ADD COLUMN refunded_at INTEGER;
ALTER TABLE purchases ADD COLUMN refund_points INTEGER;
ALTER TABLE purchases ADD COLUMN refund_shortfall INTEGER;

CREATE TABLE mall_items (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL DEFAULT 'goods' CHECK (kind IN ('goods', 'voucher', 'partner')),
    image_url TEXT,
    points_price INTEGER NOT NULL CHECK (points_price > 0),
    cash_cents INTEGER NOT NULL DEFAULT 0 CHECK (cash_cents >= 0),
    stock INTEGER NOT NULL CHECK (stock >= 0),
    per_member_limit INTEGER CHECK (per_member_limit IS NULL OR per_member_limit > 0),
    min_tier_code TEXT REFERENCES tiers (code),
    available_from INTEGER,
    available_until INTEGER,
    hidden INTEGER NOT NULL DEFAULT 0,
    sort INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX mall_items_listing ON mall_items (hidden, sort, id);

-- Units per member and item, moved by conditional upserts so the per-member limit holds
-- under concurrency; cancelled orders give their units back.
CREATE TABLE mall_redemption_counts (
    member_id INTEGER NOT NULL REFERENCES members (id),
    item_id INTEGER NOT NULL REFERENCES mall_items (id),
    quantity INTEGER NOT NULL CHECK (quantity >= 0),
    PRIMARY KEY (member_id, item_id)
);

CREATE TABLE mall_orders (
    id INTEGER PRIMARY KEY,
    order_code TEXT NOT NULL UNIQUE,
    member_id INTEGER NOT NULL REFERENCES members (id),
    item_id INTEGER NOT NULL REFERENCES mall_items (id),
    item_name TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    points_spent INTEGER NOT NULL CHECK (points_spent > 0),
    cash_cents INTEGER NOT NULL DEFAULT 0 CHECK (cash_cents >= 0),
    status TEXT NOT NULL CHECK (status IN ('pending', 'collected', 'cancelled', 'refunded')),
    ledger_id INTEGER NOT NULL REFERENCES points_ledger (id),
    created_at INTEGER NOT NULL,
    collected_at INTEGER,
    collected_store_id INTEGER REFERENCES stores (id),
    collected_by INTEGER REFERENCES staff_users (id),
    closed_at INTEGER,
    close_reason TEXT,
    closed_by INTEGER REFERENCES staff_users (id)
);
CREATE INDEX mall_orders_member ON mall_orders (member_id, id);
