//! Claim links: a campaign's token, its pack, and a member's one claim of it (the
//! grant row makes a second claim, or a concurrent one, find the first).

use crate::campaigns::store::{CampaignRow, COLUMNS};
use crate::coupons::store::coupons::{self, Granted};
use crate::db::{Db, DbError};

pub async fn by_token(db: &Db, token: &str) -> Result<Option<CampaignRow>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM campaigns WHERE claim_token = $1 AND kind = 'claim'"
    ))
    .bind(token)
    .fetch_optional(db.reader())
    .await?)
}

/// One line of a campaign's pack, with what its template gives.
#[derive(Debug, sqlx::FromRow)]
pub struct PackLine {
    pub name: String,
    pub kind: String,
    pub amount_off_cents: i64,
    pub percent_off: i64,
    pub cap_cents: Option<i64>,
    pub gift_name: Option<String>,
    pub min_spend_cents: i64,
    pub quantity: i64,
}

pub async fn pack_lines(db: &Db, campaign_id: i64) -> Result<Vec<PackLine>, DbError> {
    Ok(sqlx::query_as(
        "SELECT t.name, t.kind, t.amount_off_cents, t.percent_off, t.cap_cents, t.gift_name, \
                t.min_spend_cents, cc.quantity \
         FROM campaign_coupons cc JOIN coupon_templates t ON t.id = cc.template_id \
         WHERE cc.campaign_id = $1 ORDER BY cc.template_id",
    )
    .bind(campaign_id)
    .fetch_all(db.reader())
    .await?)
}

/// Whether the member has this campaign's once-ever grant.
pub async fn has_grant(db: &Db, campaign_id: i64, member_id: i64) -> Result<bool, DbError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM campaign_grants \
         WHERE campaign_id = $1 AND member_id = $2 AND period = ''",
    )
    .bind(campaign_id)
    .bind(member_id)
    .fetch_one(db.reader())
    .await?;
    Ok(n > 0)
}

/// What claiming did: the coupon ids now in the wallet from this link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claimed {
    New(Vec<i64>),
    /// Claimed before (or by a concurrent request of the same member).
    Already(Vec<i64>),
}

async fn grant_coupon_ids(
    conn: &mut sqlx::AnyConnection,
    campaign_id: i64,
    member_id: i64,
    period: &str,
) -> Result<Vec<i64>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM coupons WHERE member_id = $1 AND source_ref = $2 ORDER BY id",
    )
    .bind(member_id)
    .bind(format!("campaign:{campaign_id}:{period}"))
    .fetch_all(&mut *conn)
    .await?)
}

/// Claims a link's pack for a member. Closed → `CampaignClosed`; cap reached →
/// `CouponsExhausted`; every template refused → that refusal, with nothing kept (so the
/// member may try again once, say, their tier allows it).
pub async fn claim(
    db: &Db,
    campaign_id: i64,
    member_id: i64,
    now: i64,
) -> Result<Claimed, DbError> {
    let mut tx = db.begin_write().await?;
    let row: Option<CampaignRow> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM campaigns WHERE id = $1"))
            .bind(campaign_id)
            .fetch_optional(&mut *tx)
            .await?;
    let row = row.ok_or(DbError::NotFound)?;
    // A member who has it gets the same answer whatever happened to the link since.
    if has_grant_in(&mut tx, campaign_id, member_id).await? {
        return Ok(Claimed::Already(
            grant_coupon_ids(&mut tx, campaign_id, member_id, "").await?,
        ));
    }
    if !row.open_at(now) {
        return Err(DbError::CampaignClosed);
    }
    let tier: Option<String> = sqlx::query_scalar("SELECT tier_code FROM members WHERE id = $1")
        .bind(member_id)
        .fetch_optional(&mut *tx)
        .await?;
    let tier = tier.ok_or(DbError::NotFound)?;
    match coupons::grant(&mut tx, &row.campaign(), member_id, &tier, "", now).await? {
        Granted::New { issued, refused } => {
            if issued.is_empty() {
                if let Some((_, why)) = refused.first() {
                    return Err(why.into_error());
                }
            }
            tx.commit().await?;
            Ok(Claimed::New(issued.into_iter().map(|(id, _)| id).collect()))
        }
        // Another request of this member committed the grant first.
        Granted::Already => Ok(Claimed::Already(
            grant_coupon_ids(&mut tx, campaign_id, member_id, "").await?,
        )),
    }
}

async fn has_grant_in(
    conn: &mut sqlx::AnyConnection,
    campaign_id: i64,
    member_id: i64,
) -> Result<bool, DbError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM campaign_grants \
         WHERE campaign_id = $1 AND member_id = $2 AND period = ''",
    )
    .bind(campaign_id)
    .bind(member_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(n > 0)
}
