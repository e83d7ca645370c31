//! The member's coupon wallet: rows as `CouponView`s (the wallet, claim results, the
//! till) and as `Held` (the rules), the tabs and their counts.
//!
//! Status is derived at read time from the stored `status` and the clock, never stored:
//! an expired coupon is an `issued` row past `expires_at`, so nothing has to sweep them.

use member_core::civil;
use member_core::coupons::{self, Benefit, Held, Terms};
use member_core::dto::{CouponBenefit, CouponCounts, CouponView};
use sqlx::AnyConnection;

use crate::clock::rfc3339;
use crate::db::{Db, DbError};

/// The most a wallet list answers.
pub const MAX_LIST: i64 = 200;

/// A coupon with its template's terms. Select with `SELECT_COUPON` (+ a WHERE on `c.`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CouponRow {
    pub id: i64,
    pub code: String,
    pub template_id: i64,
    pub name: String,
    pub description: String,
    pub kind: String,
    pub amount_off_cents: i64,
    pub percent_off: i64,
    pub cap_cents: Option<i64>,
    pub gift_name: Option<String>,
    pub min_spend_cents: i64,
    pub stackable: i64,
    pub store_codes: String,
    pub valid_from: i64,
    pub expires_at: i64,
    pub status: String,
    pub source: String,
    pub issued_at: i64,
    pub seen: i64,
    pub used_at: Option<i64>,
    pub used_store_name: Option<String>,
    pub discount_cents: Option<i64>,
}

/// Every column `CouponRow` reads; callers append `WHERE c.member_id = $1 AND …`.
pub const SELECT_COUPON: &str = "SELECT c.id, c.code, c.template_id, t.name, t.description, \
       t.kind, t.amount_off_cents, t.percent_off, t.cap_cents, t.gift_name, \
       t.min_spend_cents, t.stackable, t.store_codes, c.valid_from, c.expires_at, c.status, \
       c.source, c.issued_at, c.seen, c.used_at, s.name AS used_store_name, c.discount_cents \
     FROM coupons c JOIN coupon_templates t ON t.id = c.template_id \
     LEFT JOIN stores s ON s.id = c.used_store_id";

impl CouponRow {
    pub fn benefit(&self) -> Result<Benefit, DbError> {
        match self.kind.as_str() {
            "amount" => Ok(Benefit::AmountOff {
                off_cents: self.amount_off_cents,
            }),
            "percent" => Ok(Benefit::PercentOff {
                percent_off: self.percent_off,
                cap_cents: self.cap_cents,
            }),
            "gift" => Ok(Benefit::Gift {
                item: self.gift_name.clone().unwrap_or_default(),
            }),
            _ => Err(DbError::Corrupt("coupon template kind")),
        }
    }

    pub fn store_code_list(&self) -> Vec<String> {
        split_codes(&self.store_codes)
    }

    /// The coupon as the rules see it.
    pub fn held(&self) -> Result<Held, DbError> {
        Ok(Held {
            id: self.id,
            template_id: self.template_id,
            terms: Terms {
                benefit: self.benefit()?,
                min_spend_cents: self.min_spend_cents,
                stackable: self.stackable != 0,
                store_codes: self.store_code_list(),
            },
            valid_from: self.valid_from,
            expires_at: self.expires_at,
            unused: self.status == "issued",
        })
    }

    /// `usable`, `upcoming`, `used`, `expired`, `void` (see the shared rules).
    pub fn status_at(&self, now: i64) -> &'static str {
        match self.status.as_str() {
            "used" => "used",
            "void" => "void",
            _ if now >= self.expires_at => "expired",
            _ if now < self.valid_from => "upcoming",
            _ => "usable",
        }
    }

    /// `stores`: code → name of every store the row names (missing ones show the code).
    pub fn view(&self, now: i64, stores: &[(String, String)]) -> Result<CouponView, DbError> {
        let status = self.status_at(now);
        let store_codes = self.store_code_list();
        let store_names = store_codes
            .iter()
            .map(|code| {
                stores
                    .iter()
                    .find(|(c, _)| c == code)
                    .map_or_else(|| code.clone(), |(_, name)| name.clone())
            })
            .collect();
        Ok(CouponView {
            id: self.id,
            code: self.code.clone(),
            template_id: self.template_id,
            name: self.name.clone(),
            description: self.description.clone(),
            benefit: CouponBenefit::from_benefit(&self.benefit()?),
            min_spend_cents: self.min_spend_cents,
            stackable: self.stackable != 0,
            store_codes,
            store_names,
            valid_from: rfc3339(self.valid_from),
            expires_at: rfc3339(self.expires_at),
            valid_from_ts: self.valid_from,
            expires_ts: self.expires_at,
            status: status.to_string(),
            source: self.source.clone(),
            issued_at: rfc3339(self.issued_at),
            used_at: self.used_at.map(rfc3339),
            used_store_name: self.used_store_name.clone(),
            discount_cents: self.discount_cents,
            new: self.seen == 0 && matches!(status, "usable" | "upcoming"),
        })
    }
}

fn split_codes(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

/// Names of the stores the rows are restricted to (one query, none when no row is).
pub async fn store_names(
    conn: &mut AnyConnection,
    rows: &[CouponRow],
) -> Result<Vec<(String, String)>, DbError> {
    if rows.iter().all(|r| r.store_codes.trim().is_empty()) {
        return Ok(Vec::new());
    }
    Ok(sqlx::query_as("SELECT code, name FROM stores")
        .fetch_all(&mut *conn)
        .await?)
}

pub async fn views(
    conn: &mut AnyConnection,
    rows: &[CouponRow],
    now: i64,
) -> Result<Vec<CouponView>, DbError> {
    let stores = store_names(conn, rows).await?;
    rows.iter().map(|r| r.view(now, &stores)).collect()
}

/// `$first, $first+1, …` for an IN list of `n` values.
pub fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The member's coupons among `ids` (others' and unknown ids are simply absent), in
/// the order of `ids`. Runs on the caller's connection (inside its transaction, if any).
pub async fn rows_by_ids(
    conn: &mut AnyConnection,
    member_id: i64,
    ids: &[i64],
) -> Result<Vec<CouponRow>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut unique: Vec<i64> = ids.to_vec();
    unique.sort_unstable();
    unique.dedup();
    let sql = format!(
        "{SELECT_COUPON} WHERE c.member_id = $1 AND c.id IN ({})",
        placeholders(2, unique.len())
    );
    let mut q = sqlx::query_as::<_, CouponRow>(&sql).bind(member_id);
    for id in &unique {
        q = q.bind(*id);
    }
    let mut rows = q.fetch_all(&mut *conn).await?;
    rows.sort_by_key(|r| ids.iter().position(|id| *id == r.id));
    Ok(rows)
}

/// `CouponView`s of the member's coupons among `ids`, in the order of `ids` (for claim
/// results and anything else that just issued coupons).
pub async fn views_by_ids(
    conn: &mut AnyConnection,
    member_id: i64,
    ids: &[i64],
    now: i64,
) -> Result<Vec<CouponView>, DbError> {
    let rows = rows_by_ids(conn, member_id, ids).await?;
    views(conn, &rows, now).await
}

/// A wallet tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// Usable now or later (`usable` + `upcoming`), soonest expiry first.
    Usable,
    /// Newest use first.
    Used,
    /// Expired and voided, most recently ended first.
    Expired,
}

impl Tab {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "usable" => Some(Self::Usable),
            "used" => Some(Self::Used),
            "expired" => Some(Self::Expired),
            _ => None,
        }
    }
}

/// The member's coupons in one tab (or all: usable, used, expired in that order), at
/// most `MAX_LIST`. `$1` member, `$2` now.
pub async fn list(
    db: &Db,
    member_id: i64,
    tab: Option<Tab>,
    now: i64,
) -> Result<Vec<CouponView>, DbError> {
    let sql = match tab {
        Some(Tab::Usable) => format!(
            "{SELECT_COUPON} WHERE c.member_id = $1 AND c.status = 'issued' AND c.expires_at > $2 \
             ORDER BY c.expires_at, c.id LIMIT {MAX_LIST}"
        ),
        Some(Tab::Used) => format!(
            "{SELECT_COUPON} WHERE c.member_id = $1 AND c.status = 'used' \
             ORDER BY c.used_at DESC, c.id DESC LIMIT {MAX_LIST}"
        ),
        Some(Tab::Expired) => format!(
            "{SELECT_COUPON} WHERE c.member_id = $1 \
             AND (c.status = 'void' OR (c.status = 'issued' AND c.expires_at <= $2)) \
             ORDER BY c.expires_at DESC, c.id DESC LIMIT {MAX_LIST}"
        ),
        None => format!(
            "{SELECT_COUPON} WHERE c.member_id = $1 ORDER BY \
             CASE WHEN c.status = 'issued' AND c.expires_at > $2 THEN 0 \
                  WHEN c.status = 'used' THEN 1 ELSE 2 END, \
             CASE WHEN c.status = 'issued' AND c.expires_at > $2 THEN c.expires_at END, \
             c.used_at DESC, c.expires_at DESC, c.id DESC LIMIT {MAX_LIST}"
        ),
    };
    let mut q = sqlx::query_as::<_, CouponRow>(&sql).bind(member_id);
    // Postgres refuses a parameter the text does not use.
    if tab != Some(Tab::Used) {
        q = q.bind(now);
    }
    let mut conn = db.reader().acquire().await?;
    let rows = q.fetch_all(&mut *conn).await?;
    views(&mut conn, &rows, now).await
}

/// One of the member's coupons; `None` for an unknown id or another member's.
pub async fn one(
    db: &Db,
    member_id: i64,
    coupon_id: i64,
    now: i64,
) -> Result<Option<CouponView>, DbError> {
    let mut conn = db.reader().acquire().await?;
    Ok(views_by_ids(&mut conn, member_id, &[coupon_id], now)
        .await?
        .into_iter()
        .next())
}

/// The instant from which a coupon no longer counts as "expiring soon": the start of
/// the local day `EXPIRING_SOON_DAYS + 1` days after today (matches
/// `coupons::expiring_soon`).
pub fn expiring_soon_cutoff(now: i64) -> i64 {
    let today = civil::days_from_date(civil::local_date(now));
    civil::local_midnight(civil::date_from_days(
        today + coupons::EXPIRING_SOON_DAYS + 1,
    ))
}

#[derive(sqlx::FromRow)]
struct Counts {
    usable: i64,
    used: i64,
    expired: i64,
    new: i64,
    expiring_soon: i64,
}

pub async fn counts(db: &Db, member_id: i64, now: i64) -> Result<CouponCounts, DbError> {
    let c: Counts = sqlx::query_as(
        "SELECT \
           COUNT(CASE WHEN status = 'issued' AND expires_at > $2 THEN 1 END) AS usable, \
           COUNT(CASE WHEN status = 'used' THEN 1 END) AS used, \
           COUNT(CASE WHEN status = 'void' OR (status = 'issued' AND expires_at <= $2) \
                 THEN 1 END) AS expired, \
           COUNT(CASE WHEN status = 'issued' AND expires_at > $2 AND seen = 0 THEN 1 END) AS new, \
           COUNT(CASE WHEN status = 'issued' AND expires_at > $2 AND expires_at <= $3 \
                 THEN 1 END) AS expiring_soon \
         FROM coupons WHERE member_id = $1",
    )
    .bind(member_id)
    .bind(now)
    .bind(expiring_soon_cutoff(now))
    .fetch_one(db.reader())
    .await?;
    Ok(CouponCounts {
        usable: c.usable,
        used: c.used,
        expired: c.expired,
        new: c.new,
        expiring_soon: c.expiring_soon,
    })
}

/// `(usable, new)` for the card (`MeView`): one indexed query.
pub async fn card_counts(db: &Db, member_id: i64, now: i64) -> Result<(i64, i64), DbError> {
    Ok(sqlx::query_as(
        "SELECT COUNT(*), COUNT(CASE WHEN seen = 0 THEN 1 END) FROM coupons \
         WHERE member_id = $1 AND status = 'issued' AND expires_at > $2",
    )
    .bind(member_id)
    .bind(now)
    .fetch_one(db.reader())
    .await?)
}

/// Marks all the member's coupons seen (the wallet was opened).
pub async fn mark_seen(db: &Db, member_id: i64) -> Result<(), DbError> {
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE coupons SET seen = 1 WHERE member_id = $1 AND seen = 0")
        .bind(member_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutoff_matches_the_rule() {
        let now = 1_790_000_000;
        let cutoff = expiring_soon_cutoff(now);
        assert!(coupons::expiring_soon(cutoff, now));
        assert!(!coupons::expiring_soon(cutoff + 1, now));
        assert_eq!(placeholders(2, 3), "$2, $3, $4");
    }
}
