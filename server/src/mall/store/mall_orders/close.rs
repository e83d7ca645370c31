//! Staff closing an order: collect at a store, or cancel / refund it with the points back
//! into the batches they came from.

use crate::mall::store::mall_orders::{by_code_in, MallError};

use crate::db::batch::{self, Arg, Refusal, Stmt};
use crate::db::idempotency::{self, Outcome};
use crate::db::{audit, Db, DbError};
use crate::mall::store::mall_orders::OrderRow;
use crate::points::store::ledger::{self, Entry};
use member_core::dto::{CancelOrderResult, LedgerEvent};
use member_core::points::LedgerKind;
use sqlx::AnyConnection;

// ---------------------------------------------------------------------------------------
// Staff: collect and cancel

pub struct Collect<'a> {
    pub code: &'a str,
    pub staff_id: i64,
    pub staff_username: &'a str,
    pub store_id: i64,
    pub now: i64,
}

/// Marks a pending order collected at the staff member's store, once.
/// `DbError::OrderClosed` unless pending; `DbError::NotFound` for an unknown code.
pub async fn collect(db: &Db, c: &Collect<'_>) -> Result<OrderRow, DbError> {
    let mut tx = db.begin_write().await?;
    let changed = sqlx::query(
        "UPDATE mall_orders SET status = 'collected', collected_at = $1, \
                collected_store_id = $2, collected_by = $3 \
         WHERE order_code = $4 AND status = 'pending'",
    )
    .bind(c.now)
    .bind(c.store_id)
    .bind(c.staff_id)
    .bind(c.code)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let order = by_code_in(&mut tx, c.code)
        .await?
        .ok_or(DbError::NotFound)?;
    if changed != 1 {
        return Err(DbError::OrderClosed);
    }
    audit::record(
        &mut tx,
        &format!("staff:{}", c.staff_username),
        "mall.collect",
        &format!("mall_order:{}", c.code),
        &format!(
            "member={} item={} quantity={} store={}",
            order.member_no, order.item_id, order.quantity, c.store_id
        ),
        c.now,
    )
    .await?;
    tx.commit().await?;
    Ok(order)
}

pub struct Cancel<'a> {
    pub code: &'a str,
    pub reason: &'a str,
    pub staff_id: i64,
    pub staff_username: &'a str,
    pub store_id: Option<i64>,
    /// Managers and admins may also refund a collected order.
    /// Managers and admins may refund a collected order ...
    pub may_refund: bool,
    /// ... admins wherever it was collected, managers only in their own store.
    pub any_store: bool,
    pub idempotency_scope: &'a str,
    pub idempotency_key: &'a str,
    pub request_hash: &'a str,
    pub now: i64,
}

const CLOSE_ORDER: &str = "UPDATE mall_orders SET status = $1, closed_at = $2, close_reason = $3, \
                           closed_by = $4 WHERE id = $5 AND status = $6";
const RETURN_STOCK: &str = "UPDATE mall_items SET stock = stock + $1 WHERE id = $2";
const UNCOUNT: &str = "UPDATE mall_redemption_counts SET quantity = quantity - $1 \
                       WHERE member_id = $2 AND item_id = $3 AND quantity >= $1";
/// The coupons a coupon item's order put in the wallet.
const ORDER_COUPONS: &str = "SELECT id, template_id, status FROM coupons \
                             WHERE member_id = $1 AND source = 'mall' AND source_ref = $2";
const VOID_COUPONS: &str = "UPDATE coupons SET status = 'void' \
     WHERE member_id = $1 AND source = 'mall' AND source_ref = $2 AND status = 'issued'";
/// Voided coupons no longer count against the template's total or the member's limit,
/// as the returned stock and count do for the item.
const GIVE_BACK_TOTAL: &str = "UPDATE coupon_templates SET issued_count = issued_count - $1 \
                               WHERE id = $2 AND issued_count >= $1";
const GIVE_BACK_MEMBER: &str = "UPDATE coupon_member_counts SET issued = issued - $1 \
                                WHERE member_id = $2 AND template_id = $3 AND issued >= $1";

#[derive(sqlx::FromRow)]
struct OrderCoupon {
    id: i64,
    template_id: i64,
    status: String,
}

/// Cancels a pending order (any staff) or refunds a collected one (managers, admins):
/// the points go back to the batches the redemption took them from, the stock and the
/// member's count go back, in one transaction with the idempotency key.
pub async fn cancel(db: &Db, c: &Cancel<'_>) -> Result<Outcome<CancelOrderResult>, MallError> {
    let (mut tx, claim_id) = idempotency::claim_or_replay!(
        db,
        c.idempotency_scope,
        c.idempotency_key,
        c.request_hash,
        c.now
    );
    let order = by_code_in(&mut tx, c.code)
        .await?
        .ok_or(DbError::NotFound)?;
    // Lock order: member, then order and item (as redeem does), so the two can't deadlock.
    ledger::lock_member(&mut tx, db.backend(), order.member_id)
        .await?
        .ok_or(DbError::Corrupt("order without member"))?;
    // Under the member's lock, which a purchase using one of these coupons takes too.
    let coupons: Vec<OrderCoupon> = sqlx::query_as(ORDER_COUPONS)
        .bind(order.member_id)
        .bind(&order.order_code)
        .fetch_all(&mut *tx)
        .await?;
    // A coupon item's order was never handed over at a store: any manager may refund it.
    let delivered_to_wallet = !coupons.is_empty();
    let (old, new) = match order.status.as_str() {
        "pending" => ("pending", "cancelled"),
        "collected"
            if c.may_refund
                && (c.any_store
                    || delivered_to_wallet
                    || (c.store_id.is_some() && order.collected_store_id == c.store_id)) =>
        {
            ("collected", "refunded")
        }
        "collected" => return Err(MallError::RefundNeedsManager),
        _ => return Err(DbError::OrderClosed.into()),
    };
    // A used coupon can't be taken back, so neither can the points that bought it.
    if let Some(used) = coupons.iter().find(|k| k.status == "used") {
        return Err(DbError::Coupon {
            coupon_id: used.id,
            refusal: member_core::coupons::Refusal::Used,
        }
        .into());
    }
    let actor = format!("staff:{}", c.staff_username);
    let entry = Entry {
        member_id: order.member_id,
        kind: LedgerKind::Refund,
        reason: format!("取消兑换 {} ×{}", order.item_name, order.quantity),
        source_ref: Some(order.order_code.clone()),
        actor: actor.clone(),
        store_id: c.store_id,
        now: c.now,
        event: Some(member_core::dto::LedgerEvent {
            item: Some(order.item_name.clone()),
            quantity: Some(order.quantity),
            ..LedgerEvent::of("redeem_cancel")
        }),
    };
    // First, so that a lost race reads as "closed" (it is the first refusal on SQLite).
    let mut stmts = vec![Stmt::one(
        CLOSE_ORDER,
        vec![
            Arg::Text(new.into()),
            Arg::Int(c.now),
            Arg::Text(c.reason.into()),
            Arg::Int(c.staff_id),
            Arg::Int(order.id),
            Arg::Text(old.into()),
        ],
        Refusal::OrderClosed,
    )];
    let (restore, returned) = ledger::plan_restore(&mut tx, &entry, order.ledger_id).await?;
    stmts.extend(restore);
    stmts.push(Stmt::new(
        RETURN_STOCK,
        vec![Arg::Int(order.quantity), Arg::Int(order.item_id)],
    ));
    stmts.push(Stmt::new(
        UNCOUNT,
        vec![
            Arg::Int(order.quantity),
            Arg::Int(order.member_id),
            Arg::Int(order.item_id),
        ],
    ));
    stmts.push(Stmt::new(
        audit::INSERT,
        vec![
            Arg::Text(actor),
            Arg::Text(format!(
                "mall.{}",
                if new == "refunded" {
                    "refund"
                } else {
                    "cancel"
                }
            )),
            Arg::Text(format!("mall_order:{}", order.order_code)),
            Arg::Text(format!(
                "member={} item={} quantity={} points_returned={returned}{} reason={}",
                order.member_no,
                order.item_id,
                order.quantity,
                if delivered_to_wallet {
                    format!(
                        " coupons_voided={}",
                        coupons.iter().filter(|k| k.status == "issued").count()
                    )
                } else {
                    String::new()
                },
                c.reason
            )),
            Arg::Int(c.now),
        ],
    ));
    batch::execute(&mut tx, db.backend(), stmts).await?;
    if delivered_to_wallet {
        void_order_coupons(&mut tx, order.member_id, &order.order_code, &coupons).await?;
    }
    // The balance after: restored points that fell into expired batches expired again.
    let points: i64 = sqlx::query_scalar("SELECT points FROM members WHERE id = $1")
        .bind(order.member_id)
        .fetch_one(&mut *tx)
        .await?;
    let closed = by_code_in(&mut tx, c.code)
        .await?
        .ok_or(DbError::Corrupt("cancelled order vanished"))?;
    let result = CancelOrderResult {
        order: closed.view(),
        points_returned: returned,
        points,
    };
    let body = serde_json::to_string(&result).map_err(|_| DbError::Corrupt("response body"))?;
    batch::execute(
        &mut tx,
        db.backend(),
        vec![idempotency::complete(claim_id, 200, body)],
    )
    .await?;
    tx.commit().await?;
    Ok(Outcome::Fresh(result))
}

/// Voids a refunded coupon order's unused coupons and gives their places back to the
/// templates' totals and the member's limits. After the batch, so the item's lock
/// (returned stock) comes before the templates', as in a redemption.
async fn void_order_coupons(
    conn: &mut AnyConnection,
    member_id: i64,
    order_code: &str,
    coupons: &[OrderCoupon],
) -> Result<(), DbError> {
    let unused: Vec<&OrderCoupon> = coupons.iter().filter(|k| k.status == "issued").collect();
    let voided = sqlx::query(VOID_COUPONS)
        .bind(member_id)
        .bind(order_code)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    // The member's lock keeps purchases out, so a difference means one was used anyway.
    if voided != u64::try_from(unused.len()).unwrap_or(u64::MAX) {
        return Err(DbError::Coupon {
            coupon_id: unused.first().map_or(0, |k| k.id),
            refusal: member_core::coupons::Refusal::Used,
        });
    }
    let mut per_template: Vec<(i64, i64)> = Vec::new();
    for k in unused {
        match per_template.iter_mut().find(|(t, _)| *t == k.template_id) {
            Some((_, n)) => *n += 1,
            None => per_template.push((k.template_id, 1)),
        }
    }
    for (template_id, n) in per_template {
        sqlx::query(GIVE_BACK_TOTAL)
            .bind(n)
            .bind(template_id)
            .execute(&mut *conn)
            .await?;
        sqlx::query(GIVE_BACK_MEMBER)
            .bind(n)
            .bind(member_id)
            .bind(template_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
