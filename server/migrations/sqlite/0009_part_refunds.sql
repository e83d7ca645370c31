-- Part refunds (issue 15): a purchase may be refunded in several parts. refunded_cents
-- is what its refunds have given back so far; each refund moves it by a conditional
-- update that can't pass what was paid. refunded_at stays "refunded in full".
-- refund_points and refund_shortfall add up over the parts.
ALTER TABLE purchases ADD COLUMN refunded_cents INTEGER NOT NULL DEFAULT 0;
UPDATE purchases SET refunded_cents = amount_cents - discount_cents WHERE refunded_at IS NOT NULL;
-- When the first part was refunded: points owed from refunds are settled oldest refund
-- first, and a purchase refunded in parts has no refunded_at until the last part.
ALTER TABLE purchases ADD COLUMN refund_started_at INTEGER;
UPDATE purchases SET refund_started_at = refunded_at WHERE refunded_at IS NOT NULL;
-- The refund screen lists a store's recent purchases, newest first.
CREATE INDEX purchases_store_recent ON purchases (store_id, id);
