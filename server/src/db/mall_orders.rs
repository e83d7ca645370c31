//! Mall orders: redeem (one write transaction: idempotency key, member lock, precise
//! refusal, then conditional stock / per-member count / ledger writes as one batch),
//! collect at a store, cancel or refund (points back into the batches they came from).
//!
//! Coupon items (`coupon_template_id`) put their coupons in the wallet inside the
//! redemption's transaction, so the order exists exactly when its coupons do; such an
//! order is `collected` at once. Refunding it voids the coupons, and is refused while
//! one of them has been used.

use member_core::dto::{CancelOrderResult, LedgerEvent, MallOrder, MallOrderResult};
use member_core::mall::{self, ItemTerms, Redeemer, Refusal as MallRefusal, ORDER_CODE_LEN};
use member_core::points::Batch;
use rand::RngCore;
use sqlx::AnyConnection;

use super::batch::{self, Arg, Refusal, Stmt};
use super::coupons::{self, Issue, IssueRefusal};
use super::idempotency::{self, Outcome};
use super::ledger::{self, Entry};
use super::{audit, Backend, Db, DbError};
use crate::clock::rfc3339;

/// Why a mall request was not carried out.
#[derive(Debug, thiserror::Error)]
pub enum MallError {
    #[error(transparent)]
    Db(#[from] DbError),
    /// The mall rules say no (checked under the member's lock).
    #[error("refused: {0:?}")]
    Refused(MallRefusal),
    /// A collected order can only be refunded by a manager or an admin.
    #[error("refund needs a manager")]
    RefundNeedsManager,
}

impl From<sqlx::Error> for MallError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e.into())
    }
}

/// Attempts at a fresh order code; two collisions in a row (49-bit codes) mean
/// something other than bad luck.
const CODE_ATTEMPTS: usize = 3;

fn new_order_code() -> String {
    let mut bytes = [0u8; ORDER_CODE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    mall::order_code_from_random(&bytes)
}

/// Everything the refusal check and the debit need in one query (one row per open
/// batch of the member, or one row without a batch): both tier ranks (index in
/// threshold order = tiers with a lower threshold), the item, the units already
/// redeemed and the member's batches. The caller holds the member's lock, so none of it
/// can change before the writes.
const REDEEM_READ: &str = "SELECT m.member_no, m.tier_code AS member_tier, i.coupon_template_id, \
       (SELECT COUNT(*) FROM tiers t WHERE t.growth_threshold < \
          (SELECT mt.growth_threshold FROM tiers mt WHERE mt.code = m.tier_code)) AS member_rank, \
       i.name, i.points_price, i.cash_cents, i.stock, i.per_member_limit, i.min_tier_code, \
       (SELECT COUNT(*) FROM tiers t WHERE t.growth_threshold < \
          (SELECT it.growth_threshold FROM tiers it WHERE it.code = i.min_tier_code)) AS min_rank, \
       i.available_from, i.available_until, i.hidden, \
       COALESCE((SELECT c.quantity FROM mall_redemption_counts c \
                 WHERE c.member_id = m.id AND c.item_id = i.id), 0) AS already, \
       b.id AS batch_id, b.remaining AS batch_remaining, b.expires_at AS batch_expires_at \
     FROM members m JOIN mall_items i ON i.id = $2 \
     LEFT JOIN points_batches b ON b.member_id = m.id AND b.remaining > 0 \
     WHERE m.id = $1";

#[derive(sqlx::FromRow)]
struct RedeemRow {
    member_no: String,
    member_tier: String,
    coupon_template_id: Option<i64>,
    member_rank: i64,
    name: String,
    points_price: i64,
    cash_cents: i64,
    stock: i64,
    per_member_limit: Option<i64>,
    min_tier_code: Option<String>,
    min_rank: i64,
    available_from: Option<i64>,
    available_until: Option<i64>,
    hidden: i64,
    already: i64,
    batch_id: Option<i64>,
    batch_remaining: Option<i64>,
    batch_expires_at: Option<i64>,
}

const TAKE_STOCK: &str = "UPDATE mall_items SET stock = stock - $1 \
                          WHERE id = $2 AND stock >= $1 AND hidden = 0";
/// The per-member count moves by a conditional upsert, so the limit holds even if two
/// redemptions of one member were not serialised by the member lock.
const COUNT_LIMITED: &str = "INSERT INTO mall_redemption_counts (member_id, item_id, quantity) \
     SELECT $1, $2, $3 WHERE $3 <= $4 \
     ON CONFLICT (member_id, item_id) DO UPDATE \
     SET quantity = mall_redemption_counts.quantity + excluded.quantity \
     WHERE mall_redemption_counts.quantity + excluded.quantity <= $4";
const COUNT_UNLIMITED: &str = "INSERT INTO mall_redemption_counts (member_id, item_id, quantity) \
     VALUES ($1, $2, $3) \
     ON CONFLICT (member_id, item_id) DO UPDATE \
     SET quantity = mall_redemption_counts.quantity + excluded.quantity";
/// The member is locked, so the member's newest ledger row is the debit just planned.
const INSERT_ORDER: &str =
    "INSERT INTO mall_orders (order_code, member_id, item_id, item_name, quantity, \
                              points_spent, cash_cents, status, ledger_id, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', \
             (SELECT MAX(id) FROM points_ledger WHERE member_id = $2), $8)";
/// A coupon item's order: delivered into the wallet as it is placed, so there is no
/// store and no staff member to record.
const INSERT_COLLECTED_ORDER: &str =
    "INSERT INTO mall_orders (order_code, member_id, item_id, item_name, quantity, \
                              points_spent, cash_cents, status, ledger_id, created_at, \
                              collected_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'collected', \
             (SELECT MAX(id) FROM points_ledger WHERE member_id = $2), $8, $8)";

pub struct NewRedemption<'a> {
    pub member_id: i64,
    pub item_id: i64,
    pub quantity: i64,
    pub idempotency_scope: &'a str,
    pub idempotency_key: &'a str,
    pub request_hash: &'a str,
    pub now: i64,
}

/// Redeems `quantity` units of an item for the member. `DbError::NotFound` for an unknown
/// or hidden item.
pub async fn redeem(db: &Db, r: &NewRedemption<'_>) -> Result<Outcome<MallOrderResult>, MallError> {
    for _ in 0..CODE_ATTEMPTS {
        match redeem_once(db, r, new_order_code()).await {
            // The only unique index the batch can hit is the order code: draw again
            // (the whole transaction is redone, its effects rolled back).
            Err(MallError::Db(DbError::Sqlx(sqlx::Error::Database(d))))
                if d.is_unique_violation() => {}
            other => return other,
        }
    }
    Err(DbError::Conflict.into())
}

async fn redeem_once(
    db: &Db,
    r: &NewRedemption<'_>,
    code: String,
) -> Result<Outcome<MallOrderResult>, MallError> {
    let (mut tx, claim_id) = idempotency::claim_or_replay!(
        db,
        r.idempotency_scope,
        r.idempotency_key,
        r.request_hash,
        r.now
    );
    // SQLite's write transaction already excludes every other writer; Postgres needs the
    // row lock before the read below, so that read sees the latest committed state.
    if db.backend() == Backend::Postgres
        && ledger::lock_member(&mut tx, Backend::Postgres, r.member_id)
            .await?
            .is_none()
    {
        return Err(DbError::NotFound.into());
    }
    let rows: Vec<RedeemRow> = sqlx::query_as(REDEEM_READ)
        .bind(r.member_id)
        .bind(r.item_id)
        .fetch_all(&mut *tx)
        .await?;
    let batches: Vec<Batch> = rows
        .iter()
        .filter_map(|row| {
            Some(Batch {
                id: row.batch_id?,
                remaining: row.batch_remaining?,
                expires_at: row.batch_expires_at,
            })
        })
        .collect();
    let spendable: i64 = batches
        .iter()
        .filter(|b| b.spendable(r.now))
        .map(|b| b.remaining)
        .sum();
    let row = rows
        .into_iter()
        .next()
        .filter(|row| row.hidden == 0)
        .ok_or(DbError::NotFound)?;
    let terms = ItemTerms {
        points_price: row.points_price,
        stock: row.stock,
        per_member_limit: row.per_member_limit,
        min_tier_rank: rank(row.min_tier_code.as_ref().map(|_| row.min_rank)),
        available_from: row.available_from,
        available_until: row.available_until,
        hidden: false,
    };
    let who = Redeemer {
        points: spendable,
        tier_rank: rank(Some(row.member_rank)).unwrap_or(0),
        already: row.already,
    };
    let cost = mall::check(&terms, &who, r.quantity, r.now).map_err(MallError::Refused)?;
    let cash = row
        .cash_cents
        .checked_mul(r.quantity)
        .ok_or(MallError::Refused(MallRefusal::InvalidQuantity))?;
    let result = MallOrderResult {
        order_code: code.clone(),
        points_spent: cost,
        points: spendable - cost,
        cash_cents: cash,
        item_name: row.name.clone(),
        quantity: r.quantity,
        status: if row.coupon_template_id.is_some() {
            "collected".into()
        } else {
            "pending".into()
        },
        delivery: delivery(row.coupon_template_id.is_some()).into(),
    };
    let body = serde_json::to_string(&result).map_err(|_| DbError::Corrupt("response body"))?;
    let actor = format!("member:{}", row.member_no);
    let entry = Entry {
        member_id: r.member_id,
        kind: "redeem",
        reason: format!("兑换 {} ×{}", row.name, r.quantity),
        source_ref: Some(code.clone()),
        actor: actor.clone(),
        store_id: None,
        now: r.now,
        event: Some(member_core::dto::LedgerEvent {
            item: Some(row.name.clone()),
            quantity: Some(r.quantity),
            ..LedgerEvent::of("redeem")
        }),
    };

    let mut stmts = ledger::plan_debit_from(&entry, &batches, cost, None)?;
    stmts.push(match row.per_member_limit {
        Some(limit) => Stmt::one(
            COUNT_LIMITED,
            vec![
                Arg::Int(r.member_id),
                Arg::Int(r.item_id),
                Arg::Int(r.quantity),
                Arg::Int(limit),
            ],
            Refusal::LimitReached,
        ),
        None => Stmt::new(
            COUNT_UNLIMITED,
            vec![
                Arg::Int(r.member_id),
                Arg::Int(r.item_id),
                Arg::Int(r.quantity),
            ],
        ),
    });
    stmts.push(Stmt::new(
        if row.coupon_template_id.is_some() {
            INSERT_COLLECTED_ORDER
        } else {
            INSERT_ORDER
        },
        vec![
            Arg::Text(code.clone()),
            Arg::Int(r.member_id),
            Arg::Int(r.item_id),
            Arg::Text(row.name.clone()),
            Arg::Int(r.quantity),
            Arg::Int(cost),
            Arg::Int(cash),
            Arg::Int(r.now),
        ],
    ));
    stmts.push(idempotency::complete(claim_id, 201, body));
    stmts.push(Stmt::new(
        audit::INSERT,
        vec![
            Arg::Text(actor),
            Arg::Text("mall.redeem".into()),
            Arg::Text(format!("mall_order:{code}")),
            Arg::Text(format!(
                "item={} quantity={} points={} cash_cents={}{}",
                r.item_id,
                r.quantity,
                cost,
                cash,
                row.coupon_template_id
                    .map(|t| format!(" coupon_template={t}"))
                    .unwrap_or_default()
            )),
            Arg::Int(r.now),
        ],
    ));
    // Last: on Postgres this takes the item's row lock, which every other redemption of
    // the item waits for until we commit; the later it is taken, the shorter that wait.
    stmts.push(Stmt::one(
        TAKE_STOCK,
        vec![Arg::Int(r.quantity), Arg::Int(r.item_id)],
        Refusal::OutOfStock,
    ));
    batch::execute(&mut tx, db.backend(), stmts).await?;
    if let Some(template_id) = row.coupon_template_id {
        // After the batch: the item's row lock (stock) before the template's (its
        // total), the order a refund takes them in too, so the two can't deadlock.
        let issued = coupons::issue(
            &mut tx,
            &Issue {
                template_id,
                member_id: r.member_id,
                member_tier: &row.member_tier,
                quantity: r.quantity,
                source: "mall",
                source_ref: &code,
                now: r.now,
            },
        )
        .await?;
        // A refusal drops the transaction: points, stock, order and key roll back.
        issued.map_err(voucher_refusal)?;
    }
    tx.commit().await?;
    Ok(Outcome::Fresh(result))
}

/// Why a coupon item could not be redeemed, in the mall's own terms where it has them.
fn voucher_refusal(why: IssueRefusal) -> MallError {
    match why {
        // The template was switched off or its window ended: the item can't be had now.
        IssueRefusal::Inactive => MallError::Refused(MallRefusal::Unavailable),
        IssueRefusal::TierRequired => MallError::Refused(MallRefusal::TierLocked),
        IssueRefusal::LimitReached => MallError::Refused(MallRefusal::LimitReached),
        IssueRefusal::Exhausted => DbError::CouponsExhausted.into(),
    }
}

fn rank(r: Option<i64>) -> Option<usize> {
    r.map(|r| usize::try_from(r).unwrap_or(0))
}

// ---------------------------------------------------------------------------------------
// Reading orders

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderRow {
    pub id: i64,
    pub order_code: String,
    pub member_id: i64,
    pub item_id: i64,
    pub item_name: String,
    pub image_url: Option<String>,
    pub quantity: i64,
    pub points_spent: i64,
    pub cash_cents: i64,
    pub status: String,
    pub ledger_id: i64,
    pub created_at: i64,
    pub collected_at: Option<i64>,
    pub collected_store_name: Option<String>,
    pub collected_store_id: Option<i64>,
    pub closed_at: Option<i64>,
    pub close_reason: Option<String>,
    pub member_no: String,
    pub member_name: String,
    pub phone: String,
    /// 1 for a coupon item's order (delivered into the wallet).
    pub to_wallet: i64,
}

/// A coupon item goes into the wallet as it is redeemed; anything else is handed over.
fn delivery(to_wallet: bool) -> &'static str {
    if to_wallet {
        "wallet"
    } else {
        "store"
    }
}

impl OrderRow {
    pub fn view(&self) -> MallOrder {
        MallOrder {
            order_code: self.order_code.clone(),
            item_id: self.item_id,
            item_name: self.item_name.clone(),
            image_url: self.image_url.clone(),
            quantity: self.quantity,
            points_spent: self.points_spent,
            cash_cents: self.cash_cents,
            status: self.status.clone(),
            delivery: delivery(self.to_wallet != 0).into(),
            created_at: rfc3339(self.created_at),
            collected_at: self.collected_at.map(rfc3339),
            collected_store_name: self.collected_store_name.clone(),
            closed_at: self.closed_at.map(rfc3339),
            close_reason: self.close_reason.clone(),
        }
    }
}

const ORDER_SELECT: &str = "SELECT o.id, o.order_code, o.member_id, o.item_id, o.item_name, \
       i.image_url, o.quantity, o.points_spent, o.cash_cents, o.status, o.ledger_id, \
       o.created_at, o.collected_at, s.name AS collected_store_name, o.collected_store_id, \
       o.closed_at, \
       o.close_reason, m.member_no, m.name AS member_name, m.phone, \
       CAST(CASE WHEN i.coupon_template_id IS NULL THEN 0 ELSE 1 END AS BIGINT) AS to_wallet \
     FROM mall_orders o \
     JOIN mall_items i ON i.id = o.item_id \
     JOIN members m ON m.id = o.member_id \
     LEFT JOIN stores s ON s.id = o.collected_store_id";

async fn by_code_in(conn: &mut AnyConnection, code: &str) -> Result<Option<OrderRow>, DbError> {
    Ok(
        sqlx::query_as(&format!("{ORDER_SELECT} WHERE o.order_code = $1"))
            .bind(code)
            .fetch_optional(conn)
            .await?,
    )
}

/// An order by its (normalised) code, whoever's it is: for staff.
pub async fn by_code(db: &Db, code: &str) -> Result<Option<OrderRow>, DbError> {
    Ok(
        sqlx::query_as(&format!("{ORDER_SELECT} WHERE o.order_code = $1"))
            .bind(code)
            .fetch_optional(db.reader())
            .await?,
    )
}

/// The member's own order by code (`None` for anyone else's).
pub async fn member_order(
    db: &Db,
    member_id: i64,
    code: &str,
) -> Result<Option<OrderRow>, DbError> {
    Ok(sqlx::query_as(&format!(
        "{ORDER_SELECT} WHERE o.order_code = $1 AND o.member_id = $2"
    ))
    .bind(code)
    .bind(member_id)
    .fetch_optional(db.reader())
    .await?)
}

/// The member's orders, newest first; `before` is the id of the previous page's last row.
pub async fn member_page(
    db: &Db,
    member_id: i64,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<OrderRow>, DbError> {
    Ok(sqlx::query_as(&format!(
        "{ORDER_SELECT} WHERE o.member_id = $1 AND o.id < $2 ORDER BY o.id DESC LIMIT $3"
    ))
    .bind(member_id)
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(db.reader())
    .await?)
}

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
        kind: "refund",
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
