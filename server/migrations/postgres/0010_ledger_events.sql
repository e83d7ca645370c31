-- What happened on a ledger row, as facts (`member_core::dto::LedgerEvent` as JSON) the
-- app words in the member's language; `reason` stays as written, for audit. NULL on
-- rows written before.
ALTER TABLE points_ledger ADD COLUMN event TEXT;
