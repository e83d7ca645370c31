//! Scheduled issuance (birthday, member day, win-back): the active campaigns and the
//! pages of members the job grants to.

use crate::campaigns::store::claims::pack_lines;
use crate::campaigns::store::{CampaignRow, COLUMNS};
use crate::coupons::store::coupons::{Campaign, ACTIVE};
use crate::db::{Db, DbError};

/// An active scheduled campaign (birthday, member day, win-back).
#[derive(Debug, Clone)]
pub struct Scheduled {
    pub campaign: Campaign,
    pub row: CampaignRow,
}

pub async fn scheduled(db: &Db, now: i64) -> Result<Vec<Scheduled>, DbError> {
    let rows: Vec<CampaignRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM campaigns WHERE {ACTIVE} \
         AND kind IN ('birthday', 'member_day', 'winback') ORDER BY id"
    ))
    .bind(now)
    .fetch_all(db.reader())
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| Scheduled {
            campaign: row.campaign(),
            row,
        })
        .collect())
}

/// Who a scheduled page looks for.
#[derive(Debug, Clone, Copy)]
pub enum Candidates<'a> {
    /// Members born on `month` (and `day`, when given) without the grant for `period`.
    Birthday {
        month: u32,
        day: Option<u32>,
        period: &'a str,
    },
    /// Every member without the grant for `period`.
    Everyone { period: &'a str },
    /// Members whose last purchase is at or before `cutoff` and who have no grant for
    /// that purchase.
    Lapsed { cutoff: i64 },
}

const NO_GRANT: &str = "NOT EXISTS (SELECT 1 FROM campaign_grants g \
     WHERE g.campaign_id = $1 AND g.member_id = m.id AND g.period = $2)";

/// The next page of members (ids above `after`) a scheduled campaign still owes a grant.
pub async fn candidates_page(
    db: &Db,
    campaign_id: i64,
    who: Candidates<'_>,
    after: i64,
    limit: i64,
) -> Result<Vec<i64>, DbError> {
    let rows = match who {
        Candidates::Birthday { month, day, period } => {
            let sql = format!(
                "SELECT m.id FROM members m WHERE m.birth_month = $3 \
                 AND ($6 = 0 OR m.birth_day = $6) \
                 AND m.id > $4 AND {NO_GRANT} ORDER BY m.id LIMIT $5"
            );
            sqlx::query_scalar::<_, i64>(&sql)
                .bind(campaign_id)
                .bind(period)
                .bind(i64::from(month))
                .bind(after)
                .bind(limit)
                .bind(i64::from(day.unwrap_or(0)))
                .fetch_all(db.reader())
                .await?
        }
        Candidates::Everyone { period } => {
            let sql = format!(
                "SELECT m.id FROM members m WHERE m.id > $3 AND {NO_GRANT} \
                 ORDER BY m.id LIMIT $4"
            );
            sqlx::query_scalar::<_, i64>(&sql)
                .bind(campaign_id)
                .bind(period)
                .bind(after)
                .bind(limit)
                .fetch_all(db.reader())
                .await?
        }
        // The period is the purchase time as decimal text, so a member who comes back
        // and lapses again is owed a new grant.
        Candidates::Lapsed { cutoff } => {
            sqlx::query_scalar::<_, i64>(
                "SELECT m.id FROM members m WHERE m.last_purchase_at IS NOT NULL \
                 AND m.last_purchase_at <= $2 AND m.id > $3 AND NOT EXISTS (\
                   SELECT 1 FROM campaign_grants g WHERE g.campaign_id = $1 \
                   AND g.member_id = m.id AND g.period = CAST(m.last_purchase_at AS TEXT)) \
                 ORDER BY m.id LIMIT $4",
            )
            .bind(campaign_id)
            .bind(cutoff)
            .bind(after)
            .bind(limit)
            .fetch_all(db.reader())
            .await?
        }
    };
    Ok(rows)
}

/// Win-back grants whose member bought again get the first such purchase's time. The
/// purchase path stays lean: this runs with the job, not with each purchase.
pub async fn mark_returns(db: &Db) -> Result<u64, DbError> {
    let mut tx = db.begin_write().await?;
    let done = sqlx::query(
        "UPDATE campaign_grants SET returned_at = (\
           SELECT MIN(p.created_at) FROM purchases p \
           WHERE p.member_id = campaign_grants.member_id \
             AND p.created_at >= campaign_grants.granted_at) \
         WHERE returned_at IS NULL \
           AND campaign_id IN (SELECT id FROM campaigns WHERE kind = 'winback') \
           AND EXISTS (SELECT 1 FROM purchases p WHERE p.member_id = campaign_grants.member_id \
                       AND p.created_at >= campaign_grants.granted_at)",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(done.rows_affected())
}

/// An active claim campaign's name and pack (coupon name, quantity): a sign-up link's
/// welcome gift as the welcome page shows it. `None` when closed or not a claim.
pub async fn pack_of_active_claim(
    db: &Db,
    campaign_id: i64,
    now: i64,
) -> Result<Option<(String, Vec<(String, i64)>)>, DbError> {
    let name: Option<String> = sqlx::query_scalar(&format!(
        "SELECT name FROM campaigns WHERE {} AND id = $2 AND kind = 'claim'",
        crate::campaigns::store::coupons::ACTIVE
    ))
    .bind(now)
    .bind(campaign_id)
    .fetch_optional(db.reader())
    .await?;
    let Some(name) = name else {
        return Ok(None);
    };
    let lines = pack_lines(db, campaign_id).await?;
    Ok(Some((
        name,
        lines.into_iter().map(|l| (l.name, l.quantity)).collect(),
    )))
}
