//! Redeeming an item: one write transaction holding the idempotency key, the member lock,
//! the precise refusal and the conditional stock / per-member count / ledger batch.

use crate::coupons::store::coupons::{self, Issue, IssueRefusal};
use crate::db::batch::{self, Arg, Refusal, Stmt};
use crate::db::idempotency::{self, Outcome};
use crate::db::{audit, Backend, Db, DbError};
use crate::mall::store::mall_orders::{delivery, MallError};
use crate::points::store::ledger::{self, Entry};
use member_core::dto::{LedgerEvent, MallOrderResult};
use member_core::mall::{self, ItemTerms, Redeemer, Refusal as MallRefusal, ORDER_CODE_LEN};
use member_core::points::{Batch, LedgerKind};
use rand::RngCore;

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
        points: 0,
        tier_rank: rank(Some(row.member_rank)).unwrap_or(0),
        already: row.already,
    };
    let plan = mall::plan(&terms, row.cash_cents, &who, &batches, r.quantity, r.now)
        .map_err(MallError::Refused)?;
    let result = MallOrderResult {
        order_code: code.clone(),
        points_spent: plan.cost,
        points: plan.points_after,
        cash_cents: plan.cash_cents,
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
        kind: LedgerKind::Redeem,
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

    let mut stmts = ledger::debit_statements(&entry, plan.cost, &plan.debit);
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
            Arg::Int(plan.cost),
            Arg::Int(plan.cash_cents),
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
                plan.cost,
                plan.cash_cents,
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
