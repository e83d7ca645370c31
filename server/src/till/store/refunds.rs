//! A purchase returned at the till, in full or in parts: each refund takes back its
//! share of the points the purchase earned (`points::refund_share`, in proportion to
//! the fen refunded; the parts add up to exactly what was earned), never below a zero
//! balance (what was already spent is recorded as the shortfall), and its share of the
//! growth (never below zero). The tier stays: downgrades are a policy of their own
//! (issue 6). The coupons the purchase used go back to the wallet only when a refund on
//! the purchase's own local day completes a full refund (the purchase is undone); a
//! part refund leaves them used, since the rest of the purchase still used them, and
//! later refunds keep them used. One transaction with the idempotency key and the
//! audit row.

use member_core::dto::{LedgerEvent, RefundResult};
use member_core::points::LedgerKind;
use member_core::refund;

use crate::db::batch::{self, Arg, Stmt};
use crate::db::idempotency::{self, Outcome};
use crate::db::{audit, Backend, Db, DbError};
use crate::points::store::ledger::{self, Entry};
use crate::tiers::store::growth::{self, Event};
use crate::till::store::checkout;

pub struct NewRefund<'a> {
    pub staff_username: &'a str,
    pub store_id: i64,
    pub order_ref: &'a str,
    pub reason: &'a str,
    /// Fen to refund; `None`: all that is left.
    pub amount: Option<i64>,
    pub idempotency_scope: &'a str,
    pub idempotency_key: &'a str,
    pub request_hash: &'a str,
    pub now: i64,
}

#[derive(sqlx::FromRow)]
struct PurchaseRow {
    id: i64,
    member_id: i64,
    points_earned: i64,
    growth_earned: i64,
    refunded_at: Option<i64>,
    created_at: i64,
    /// What the member paid (the purchase's spend).
    paid_cents: i64,
    /// Coupons the purchase used (still marked used by it).
    coupons_used: i64,
    /// Refunded so far by earlier parts.
    refunded_cents: i64,
}

/// The purchase row, locked: a second refund of it waits here and then sees
/// `refunded_at` set (Postgres re-reads a row it waited for; SQLite has one writer).
const SELECT_PURCHASE_SQLITE: &str =
    "SELECT id, member_id, points_earned, growth_earned, refunded_at, created_at, \
       amount_cents - discount_cents AS paid_cents, refunded_cents, \
       (SELECT COUNT(*) FROM coupons c WHERE c.used_purchase_id = p.id AND c.status = 'used') \
         AS coupons_used \
     FROM purchases p WHERE store_id = $1 AND order_ref = $2";
const SELECT_PURCHASE_PG: &str =
    "SELECT id, member_id, points_earned, growth_earned, refunded_at, created_at, \
       amount_cents - discount_cents AS paid_cents, refunded_cents, \
       (SELECT COUNT(*) FROM coupons c WHERE c.used_purchase_id = p.id AND c.status = 'used') \
         AS coupons_used \
     FROM purchases p WHERE store_id = $1 AND order_ref = $2 FOR UPDATE OF p";

/// Moves the refunded-so-far column from the value this refund was computed on: a
/// concurrent part refund (were the row lock missing) finds it moved and changes
/// nothing, and no sum of parts can pass what was paid.
const MARK_REFUNDED: &str = "UPDATE purchases SET refunded_cents = refunded_cents + $1, \
       refund_points = COALESCE(refund_points, 0) + $2, \
       refund_shortfall = COALESCE(refund_shortfall, 0) + $3, \
       refunded_at = CASE WHEN $4 = 1 THEN $5 ELSE NULL END, \
       refund_started_at = COALESCE(refund_started_at, $5) \
     WHERE id = $6 AND refunded_at IS NULL AND refunded_cents = $7 \
       AND refunded_cents + $1 <= amount_cents - discount_cents";
/// When the purchase's growth leaves the window: its refund leaves with it.
const PURCHASE_COUNTS_UNTIL: &str = "SELECT counts_until FROM growth_events \
     WHERE member_id = $1 AND kind = 'purchase' AND note = $2 AND at = $3 LIMIT 1";

pub async fn refund(db: &Db, r: NewRefund<'_>) -> Result<Outcome<RefundResult>, DbError> {
    let (mut tx, claim_id) = idempotency::claim_or_replay!(
        db,
        r.idempotency_scope,
        r.idempotency_key,
        r.request_hash,
        r.now
    );
    let select = match db.backend() {
        Backend::Sqlite => SELECT_PURCHASE_SQLITE,
        Backend::Postgres => SELECT_PURCHASE_PG,
    };
    let purchase: PurchaseRow = sqlx::query_as(select)
        .bind(r.store_id)
        .bind(r.order_ref)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DbError::NotFound)?;
    let balance = ledger::lock_member(&mut tx, db.backend(), purchase.member_id)
        .await?
        .ok_or(DbError::Corrupt("purchase without member"))?;
    let (member_no, growth): (String, i64) =
        sqlx::query_as("SELECT member_no, growth FROM members WHERE id = $1")
            .bind(purchase.member_id)
            .fetch_one(&mut *tx)
            .await?;
    // The batch the purchase's points went into (none when it earned nothing).
    let own: Option<i64> = sqlx::query_scalar(
        "SELECT b.id FROM points_batches b JOIN points_ledger l ON l.id = b.ledger_id \
         WHERE l.member_id = $1 AND l.kind = 'earn' AND l.store_id = $2 AND l.source_ref = $3 \
         ORDER BY b.id LIMIT 1",
    )
    .bind(purchase.member_id)
    .bind(r.store_id)
    .bind(r.order_ref)
    .fetch_optional(&mut *tx)
    .await?;
    let account = ledger::refund_account(&mut tx, purchase.member_id, own).await?;
    let plan = refund::plan(
        refund::Purchase {
            paid_cents: purchase.paid_cents,
            refunded_cents: purchase.refunded_cents,
            closed: purchase.refunded_at.is_some(),
            points_earned: purchase.points_earned,
            growth_earned: purchase.growth_earned,
            coupons_used: purchase.coupons_used,
            same_day: checkout::same_local_day(purchase.created_at, r.now),
        },
        r.amount,
        refund::Account {
            balance,
            growth,
            batches: &account.batches,
            own,
            own_expired_before: account.own_expired_before,
        },
        r.now,
    )
    .map_err(DbError::Refund)?;

    let actor = format!("staff:{}", r.staff_username);
    let entry = Entry {
        member_id: purchase.member_id,
        kind: LedgerKind::Refund,
        reason: format!("退货 {}：{}", r.order_ref, r.reason),
        source_ref: Some(r.order_ref.to_string()),
        actor: actor.clone(),
        store_id: Some(r.store_id),
        now: r.now,
        event: Some(member_core::dto::LedgerEvent {
            note: Some(r.reason.to_string()),
            ..LedgerEvent::of("refund")
        }),
    };
    // The refund's ledger row (`-taken`, written even when 0) after the due batches expire.
    let mut stmts = ledger::debit_statements(&entry, plan.taken, &plan.debit);
    let part = plan.part;
    let result = RefundResult {
        order_ref: r.order_ref.to_string(),
        points_clawed_back: plan.taken,
        shortfall: plan.shortfall,
        growth_clawed_back: plan.growth_back,
        points: plan.points_after,
        coupons_restored: plan.coupons_restored,
        amount_cents: part,
        paid_cents: plan.paid,
        refunded_cents: plan.before + part,
        fully_refunded: plan.full,
    };
    let body = serde_json::to_string(&result).map_err(|_| DbError::Corrupt("response body"))?;
    stmts.push(Stmt::one(
        MARK_REFUNDED,
        vec![
            Arg::Int(part),
            Arg::Int(plan.taken),
            Arg::Int(plan.shortfall),
            Arg::Int(i64::from(plan.full)),
            Arg::Int(r.now),
            Arg::Int(purchase.id),
            Arg::Int(purchase.refunded_cents),
        ],
        batch::Refusal::Conflict,
    ));
    if plan.shortfall > 0 {
        stmts.push(Stmt::new(
            ledger::ADD_DEBT,
            vec![Arg::Int(plan.shortfall), Arg::Int(purchase.member_id)],
        ));
    }
    // The event takes back this part's share of what the purchase gave (the shares add
    // up to all of it, so window sums stay exact); the member's growth stops at 0,
    // which is what `growth_clawed_back` reports.
    if plan.growth_share > 0 || part > 0 {
        let counts_until: Option<Option<i64>> = sqlx::query_scalar(PURCHASE_COUNTS_UNTIL)
            .bind(purchase.member_id)
            .bind(r.order_ref)
            .bind(purchase.created_at)
            .fetch_optional(&mut *tx)
            .await?;
        let event = Event {
            member_id: purchase.member_id,
            kind: growth::Kind::Refund,
            growth: -plan.growth_share,
            spend_cents: -part,
            note: r.order_ref.to_string(),
            at: r.now,
            counts_until: counts_until.flatten(),
            in_period: true,
        };
        stmts.extend(event.statements());
    }
    if plan.coupons_restored > 0 {
        stmts.push(checkout::restore_statement(purchase.id));
    }
    stmts.push(idempotency::complete(claim_id, 200, body));
    stmts.push(Stmt::new(
        audit::INSERT,
        vec![
            Arg::Text(actor),
            Arg::Text("purchase.refund".into()),
            Arg::Text(format!("member:{member_no}")),
            Arg::Text(format!(
                "store_id={} order_ref={} refunded_cents={} refunded_so_far={} paid_cents={} \
                 earned={} share={} clawed_back={} shortfall={} \
                 expired_before={} growth_clawed_back={} coupons_restored={} reason={}",
                r.store_id,
                r.order_ref,
                part,
                plan.before + part,
                plan.paid,
                purchase.points_earned,
                plan.points_share,
                plan.taken,
                plan.shortfall,
                plan.expired_own,
                plan.growth_back,
                plan.coupons_restored,
                r.reason
            )),
            Arg::Int(r.now),
        ],
    ));
    batch::execute(&mut tx, db.backend(), stmts).await?;
    tx.commit().await?;
    Ok(Outcome::Fresh(result))
}

#[derive(sqlx::FromRow)]
pub struct PurchaseListRow {
    pub id: i64,
    pub order_ref: String,
    pub member_no: String,
    pub member_name: String,
    pub phone: String,
    pub amount_cents: i64,
    pub discount_cents: i64,
    pub refunded_cents: i64,
    pub points_earned: i64,
    pub refund_points: Option<i64>,
    pub created_at: i64,
    pub refunded_at: Option<i64>,
}

/// A store's purchases, newest first, `limit` of them with ids below `before`; or the
/// one with `order_ref`.
pub async fn store_purchases(
    db: &Db,
    store_id: i64,
    order_ref: Option<&str>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<PurchaseListRow>, DbError> {
    const COLUMNS: &str = "SELECT p.id, p.order_ref, m.member_no, m.name AS member_name, \
        m.phone, p.amount_cents, p.discount_cents, p.refunded_cents, p.points_earned, \
        p.refund_points, p.created_at, p.refunded_at \
        FROM purchases p JOIN members m ON m.id = p.member_id WHERE p.store_id = $1";
    let sql = match order_ref {
        Some(_) => format!("{COLUMNS} AND p.order_ref = $2"),
        None => format!(
            "{COLUMNS} AND p.id < $2 ORDER BY p.id DESC LIMIT {}",
            limit.clamp(1, 100)
        ),
    };
    let query = sqlx::query_as(&sql).bind(store_id);
    let query = match order_ref {
        Some(order_ref) => query.bind(order_ref.to_string()),
        None => query.bind(before.unwrap_or(i64::MAX)),
    };
    Ok(query.fetch_all(db.reader()).await?)
}
