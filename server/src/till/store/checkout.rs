//! Coupons at the till: the member's named coupons read as the rules see them, the
//! quote, the statements that mark them used with the purchase, and the restore when the
//! purchase is refunded on its own local day.
//!
//! The purchase reads the coupons after locking the member row, so a second purchase of
//! the same member (another till, another code) waits and then sees them used; the
//! conditional `status = 'issued'` update backs that up should the lock ever be missing.

use member_core::coupons::{self, Held, Quote, Refusal, Till};
use member_core::dto::{CouponView, QuoteLineView};
use sqlx::AnyConnection;

use crate::coupons::store::wallet::{self, CouponRow};
use crate::db::batch::{self, Arg, Stmt};
use crate::db::DbError;

/// The named coupons and what they do to the basket.
pub struct Quoted {
    pub quote: Quote,
    pub rows: Vec<CouponRow>,
}

impl Quoted {
    /// The quote's lines with the coupons' names, in the order they applied.
    pub fn line_views(&self) -> Vec<QuoteLineView> {
        self.quote
            .lines
            .iter()
            .map(|l| QuoteLineView {
                coupon_id: l.coupon_id,
                name: self
                    .rows
                    .iter()
                    .find(|r| r.id == l.coupon_id)
                    .map_or_else(String::new, |r| r.name.clone()),
                discount_cents: l.discount_cents,
                gift: l.gift.clone(),
            })
            .collect()
    }
}

/// Refuses more coupons than a purchase may carry before anything is read (the id list
/// would otherwise become a query of any size).
pub fn check_count(ids: &[i64]) -> Result<(), DbError> {
    if ids.len() > coupons::MAX_PER_PURCHASE {
        return Err(DbError::Coupon {
            coupon_id: ids.first().copied().unwrap_or(0),
            refusal: Refusal::TooMany,
        });
    }
    Ok(())
}

/// Applies the rows to the basket in the order `ids` names them (a repeated id stays
/// repeated, so the rules see the duplicate). An id that is not among `rows` (unknown or
/// another member's) is `CouponNotFound`, the same answer for both.
pub fn quote_rows(rows: Vec<CouponRow>, ids: &[i64], till: &Till<'_>) -> Result<Quoted, DbError> {
    check_count(ids)?;
    let held: Vec<Held> = rows.iter().map(CouponRow::held).collect::<Result<_, _>>()?;
    let mut chosen: Vec<&Held> = Vec::with_capacity(ids.len());
    for id in ids {
        let h = held
            .iter()
            .find(|h| h.id == *id)
            .ok_or(DbError::CouponNotFound)?;
        chosen.push(h);
    }
    let quote = coupons::quote(&chosen, till)
        .map_err(|(coupon_id, refusal)| DbError::Coupon { coupon_id, refusal })?;
    Ok(Quoted { quote, rows })
}

/// Reads the member's coupons among `ids` on `conn` (inside the purchase transaction,
/// after the member lock) and quotes them.
pub async fn quote(
    conn: &mut AnyConnection,
    member_id: i64,
    ids: &[i64],
    till: &Till<'_>,
) -> Result<Quoted, DbError> {
    check_count(ids)?;
    let rows = wallet::rows_by_ids(conn, member_id, ids).await?;
    quote_rows(rows, ids, till)
}

/// What the till shows before a purchase: the member's coupons still in the wallet and
/// not expired (soonest expiry first), and the ones `ids` names (which may be expired or
/// used: the quote must refuse them the way the purchase would). Reads only.
pub async fn preview_rows(
    db: &crate::db::Db,
    member_id: i64,
    ids: &[i64],
    now: i64,
) -> Result<(Vec<(CouponRow, CouponView)>, Vec<CouponRow>), DbError> {
    check_count(ids)?;
    let mut conn = db.reader().acquire().await?;
    let sql = format!(
        "{} WHERE c.member_id = $1 AND c.status = 'issued' AND c.expires_at > $2 \
         ORDER BY c.expires_at, c.id LIMIT {}",
        wallet::SELECT_COUPON,
        wallet::MAX_LIST
    );
    let listed: Vec<CouponRow> = sqlx::query_as(&sql)
        .bind(member_id)
        .bind(now)
        .fetch_all(&mut *conn)
        .await?;
    let named = wallet::rows_by_ids(&mut conn, member_id, ids).await?;
    let views = wallet::views(&mut conn, &listed, now).await?;
    Ok((listed.into_iter().zip(views).collect(), named))
}

/// `$1` now, `$2` store, `$3` order ref, `$4` discount, `$5` coupon, `$6` member. The
/// purchase row is inserted earlier in the same batch; `status = 'issued'` makes a
/// coupon usable once whatever happens around it.
const USE_COUPON: &str = "UPDATE coupons SET status = 'used', used_at = $1, \
       used_purchase_id = (SELECT id FROM purchases WHERE store_id = $2 AND order_ref = $3), \
       used_store_id = $2, discount_cents = $4 \
     WHERE id = $5 AND member_id = $6 AND status = 'issued'";

/// The statements marking the quoted coupons used by the purchase `(store_id,
/// order_ref)`; they must run after the purchase row is inserted.
pub fn use_statements(
    quote: &Quote,
    member_id: i64,
    store_id: i64,
    order_ref: &str,
    now: i64,
) -> Vec<Stmt> {
    quote
        .lines
        .iter()
        .map(|l| {
            Stmt::one(
                USE_COUPON,
                vec![
                    Arg::Int(now),
                    Arg::Int(store_id),
                    Arg::Text(order_ref.to_string()),
                    Arg::Int(l.discount_cents),
                    Arg::Int(l.coupon_id),
                    Arg::Int(member_id),
                ],
                batch::Refusal::CouponUsed,
            )
        })
        .collect()
}

/// Puts a refunded purchase's coupons back in the wallet as they were before (their
/// original validity). `$1` purchase id.
pub const RESTORE: &str = "UPDATE coupons SET status = 'issued', used_at = NULL, \
       used_purchase_id = NULL, used_store_id = NULL, discount_cents = NULL \
     WHERE used_purchase_id = $1 AND status = 'used'";

pub fn restore_statement(purchase_id: i64) -> Stmt {
    Stmt::any(RESTORE, vec![Arg::Int(purchase_id)])
}

/// A refund restores coupons only on the purchase's own local day (Asia/Shanghai).
pub fn same_local_day(purchased_at: i64, now: i64) -> bool {
    member_core::civil::local_date(purchased_at) == member_core::civil::local_date(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_day_boundary() {
        // 2026-11-23 00:00 Shanghai.
        let midnight = member_core::civil::local_midnight(member_core::civil::Date {
            year: 2026,
            month: 11,
            day: 23,
        });
        assert!(same_local_day(midnight, midnight + 86_399));
        assert!(!same_local_day(midnight - 1, midnight));
    }
}
