//! Mall orders: redeem (one write transaction: idempotency key, member lock, precise
//! refusal, then conditional stock / per-member count / ledger writes as one batch),
//! collect at a store, cancel or refund (points back into the batches they came from).
//!
//! Coupon items (`coupon_template_id`) put their coupons in the wallet inside the
//! redemption's transaction, so the order exists exactly when its coupons do; such an
//! order is `collected` at once. Refunding it voids the coupons, and is refused while
//! one of them has been used.

use member_core::dto::MallOrder;
use member_core::mall::Refusal as MallRefusal;
use sqlx::AnyConnection;

use crate::clock::rfc3339;
use crate::db::{Db, DbError};

pub mod close;
pub mod redeem;

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
pub(crate) fn delivery(to_wallet: bool) -> &'static str {
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

pub(crate) const ORDER_SELECT: &str =
    "SELECT o.id, o.order_code, o.member_id, o.item_id, o.item_name, \
       i.image_url, o.quantity, o.points_spent, o.cash_cents, o.status, o.ledger_id, \
       o.created_at, o.collected_at, s.name AS collected_store_name, o.collected_store_id, \
       o.closed_at, \
       o.close_reason, m.member_no, m.name AS member_name, m.phone, \
       CAST(CASE WHEN i.coupon_template_id IS NULL THEN 0 ELSE 1 END AS BIGINT) AS to_wallet \
     FROM mall_orders o \
     JOIN mall_items i ON i.id = o.item_id \
     JOIN members m ON m.id = o.member_id \
     LEFT JOIN stores s ON s.id = o.collected_store_id";

pub(crate) async fn by_code_in(
    conn: &mut AnyConnection,
    code: &str,
) -> Result<Option<OrderRow>, DbError> {
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
