-- Points a refund could not take back because the member had already spent them. Later
-- credits (a cancelled order's points, new purchases, adjustments) settle it first, so a
-- refund followed by a cancellation ends where a cancellation followed by a refund does.
ALTER TABLE members ADD COLUMN points_debt INTEGER NOT NULL DEFAULT 0 CHECK (points_debt >= 0);
