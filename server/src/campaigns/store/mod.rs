//! Campaigns: the admin's list and edits, claim links, manual issues, and the queries
//! the scheduled issuance job pages through. Every coupon still enters a wallet through
//! `coupons::grant` (once per campaign, member and period by the unique grant row), so
//! a retried claim, a repeated job run or a second instance never issues twice.
//!
//! Grants happen one member per transaction: a failure costs that member's grant, not
//! a whole segment, and a long run never holds the SQLite writer for more than a moment.

use rand::RngCore;
use serde::Serialize;

use crate::coupons::store::coupons::{self, Campaign};
use crate::db::{audit, Backend, Changed, Db, DbError};

pub mod claims;
pub mod issue;
pub mod schedule;

/// A campaign as stored.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CampaignRow {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub active: i64,
    pub tier_code: Option<String>,
    pub birthday_window: Option<String>,
    pub member_day: Option<String>,
    pub lapse_days: Option<i64>,
    pub claim_token: Option<String>,
    pub total_cap: Option<i64>,
    pub granted_count: i64,
    pub starts_at: Option<i64>,
    pub ends_at: Option<i64>,
    pub created_by: String,
    pub created_at: i64,
}

pub(crate) const COLUMNS: &str = "id, kind, name, active, tier_code, birthday_window, member_day, \
                       lapse_days, claim_token, total_cap, granted_count, starts_at, ends_at, \
                       created_by, created_at";

impl CampaignRow {
    /// The form `coupons::grant` takes.
    pub fn campaign(&self) -> Campaign {
        Campaign {
            id: self.id,
            kind: self.kind.clone(),
            name: self.name.clone(),
            total_cap: self.total_cap,
        }
    }

    /// Switched on and inside its window at `now` (the same test as `coupons::ACTIVE`).
    pub fn open_at(&self, now: i64) -> bool {
        self.active != 0
            && self.starts_at.is_none_or(|s| s <= now)
            && self.ends_at.is_none_or(|e| now < e)
    }
}

/// What a campaign has done so far.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub members: i64,
    pub coupons_issued: i64,
    pub coupons_used: i64,
    pub discount_cents: i64,
    pub returned: i64,
}

/// A campaign with its pack (`(template_id, quantity)`) and stats.
#[derive(Debug, Clone)]
pub struct CampaignFull {
    pub row: CampaignRow,
    pub pack: Vec<(i64, i64)>,
    pub stats: Stats,
}

/// The admin list shows at most this many (newest first): manual issues add one each.
const LIST_MAX: i64 = 500;

/// Campaigns newest first with packs and stats (`only`: just that one).
async fn load(db: &Db, only: Option<i64>) -> Result<Vec<CampaignFull>, DbError> {
    let id = only.unwrap_or(0);
    // `$1 = 0` picks every campaign: one text per query whatever the filter.
    let rows: Vec<CampaignRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM campaigns WHERE ($1 = 0 OR id = $1) ORDER BY id DESC LIMIT $2"
    ))
    .bind(id)
    .bind(LIST_MAX)
    .fetch_all(db.reader())
    .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let packs: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT campaign_id, template_id, quantity FROM campaign_coupons \
         WHERE ($1 = 0 OR campaign_id = $1) ORDER BY campaign_id, template_id",
    )
    .bind(id)
    .fetch_all(db.reader())
    .await?;
    let grants: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT campaign_id, COUNT(*), CAST(COALESCE(SUM(coupons_issued), 0) AS BIGINT), \
                CAST(COALESCE(SUM(CASE WHEN returned_at IS NULL THEN 0 ELSE 1 END), 0) AS BIGINT) \
         FROM campaign_grants WHERE ($1 = 0 OR campaign_id = $1) GROUP BY campaign_id",
    )
    .bind(id)
    .fetch_all(db.reader())
    .await?;
    // A campaign's coupons carry `campaign:<id>:<period>`; joining through the pack's
    // templates lets the (template_id, status) index find the used ones.
    let used: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT cc.campaign_id, COUNT(*), CAST(COALESCE(SUM(c.discount_cents), 0) AS BIGINT) \
         FROM campaign_coupons cc JOIN coupons c ON c.template_id = cc.template_id \
              AND c.status = 'used' \
              AND c.source_ref LIKE 'campaign:' || CAST(cc.campaign_id AS TEXT) || ':%' \
         WHERE ($1 = 0 OR cc.campaign_id = $1) GROUP BY cc.campaign_id",
    )
    .bind(id)
    .fetch_all(db.reader())
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let mut stats = Stats::default();
            if let Some(g) = grants.iter().find(|g| g.0 == row.id) {
                stats.members = g.1;
                stats.coupons_issued = g.2;
                stats.returned = g.3;
            }
            if let Some(u) = used.iter().find(|u| u.0 == row.id) {
                stats.coupons_used = u.1;
                stats.discount_cents = u.2;
            }
            let pack = packs
                .iter()
                .filter(|p| p.0 == row.id)
                .map(|p| (p.1, p.2))
                .collect();
            CampaignFull { row, pack, stats }
        })
        .collect())
}

pub async fn list(db: &Db) -> Result<Vec<CampaignFull>, DbError> {
    load(db, None).await
}

pub async fn get(db: &Db, id: i64) -> Result<Option<CampaignFull>, DbError> {
    if id <= 0 {
        return Ok(None);
    }
    Ok(load(db, Some(id)).await?.into_iter().next())
}

/// Template ids (of `ids`) that don't exist.
pub async fn missing_templates(db: &Db, ids: &[i64]) -> Result<Vec<i64>, DbError> {
    let mut missing = Vec::new();
    for id in ids {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM coupon_templates WHERE id = $1")
            .bind(*id)
            .fetch_one(db.reader())
            .await?;
        if n == 0 {
            missing.push(*id);
        }
    }
    Ok(missing)
}

/// A template as a manual issue needs to judge it before creating anything.
#[derive(Debug, sqlx::FromRow)]
pub struct TemplateState {
    pub active: i64,
    pub valid_until: Option<i64>,
}

pub async fn template_state(db: &Db, id: i64) -> Result<Option<TemplateState>, DbError> {
    Ok(
        sqlx::query_as("SELECT active, valid_until FROM coupon_templates WHERE id = $1")
            .bind(id)
            .fetch_optional(db.reader())
            .await?,
    )
}

/// A checked new campaign.
#[derive(Debug, Clone, Serialize)]
pub struct NewCampaignRow {
    pub kind: String,
    pub name: String,
    pub pack: Vec<(i64, i64)>,
    pub tier_code: Option<String>,
    pub birthday_window: Option<String>,
    pub member_day: Option<String>,
    pub lapse_days: Option<i64>,
    pub total_cap: Option<i64>,
    pub starts_at: Option<i64>,
    pub ends_at: Option<i64>,
}

/// Claim tokens: this many characters of the coupon-code alphabet (~79 bits), so a link
/// can't be guessed from another.
pub const CLAIM_TOKEN_LEN: usize = 16;

fn new_claim_token() -> String {
    let mut token = String::with_capacity(CLAIM_TOKEN_LEN);
    while token.len() < CLAIM_TOKEN_LEN {
        let mut bytes = [0u8; member_core::coupons::CODE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        token.push_str(&member_core::coupons::code_from_random(&bytes));
    }
    token.truncate(CLAIM_TOKEN_LEN);
    token
}

const INSERT_CAMPAIGN: &str = "INSERT INTO campaigns (kind, name, active, tier_code, \
       birthday_window, member_day, lapse_days, claim_token, total_cap, starts_at, ends_at, \
       created_by, created_at) \
     VALUES ($1, $2, 1, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
     ON CONFLICT (claim_token) DO NOTHING RETURNING id";
pub(crate) const INSERT_PACK: &str =
    "INSERT INTO campaign_coupons (campaign_id, template_id, quantity) VALUES ($1, $2, $3)";

/// Creates a campaign with its pack and an audit row; a claim campaign gets a fresh token.
pub async fn create(
    db: &Db,
    actor: &str,
    created_by: &str,
    c: &NewCampaignRow,
    now: i64,
) -> Result<i64, DbError> {
    let mut tx = db.begin_write().await?;
    let mut id = None;
    // A token collision (~2^-79) just draws again.
    for _ in 0..3 {
        let token = (c.kind == "claim").then(new_claim_token);
        id = sqlx::query_scalar::<_, i64>(INSERT_CAMPAIGN)
            .bind(&c.kind)
            .bind(&c.name)
            .bind(&c.tier_code)
            .bind(&c.birthday_window)
            .bind(&c.member_day)
            .bind(c.lapse_days)
            .bind(token)
            .bind(c.total_cap)
            .bind(c.starts_at)
            .bind(c.ends_at)
            .bind(created_by)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
        if id.is_some() {
            break;
        }
    }
    let id = id.ok_or(DbError::Corrupt("could not draw a free claim token"))?;
    for (template_id, quantity) in &c.pack {
        sqlx::query(INSERT_PACK)
            .bind(id)
            .bind(*template_id)
            .bind(*quantity)
            .execute(&mut *tx)
            .await?;
    }
    audit::record(
        &mut tx,
        actor,
        "campaign.create",
        &format!("campaign:{id}"),
        &format!("after={}", serde_json::to_string(c).unwrap_or_default()),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The fields a patch may change.
#[derive(Debug, Clone, Serialize)]
pub struct Editable {
    pub name: String,
    pub active: bool,
    pub ends_at: Option<i64>,
    pub total_cap: Option<i64>,
}

/// Applies `change` to the campaign under a lock (so a cap is judged against the count
/// of grants right now) and writes it with an audit row of both versions. `change`'s
/// error leaves everything as it was.
pub async fn update<E, F>(
    db: &Db,
    actor: &str,
    id: i64,
    now: i64,
    change: F,
) -> Result<(), Changed<E>>
where
    F: FnOnce(&CampaignRow) -> Result<Editable, E>,
{
    let mut tx = db.begin_write().await?;
    let sql = match db.backend() {
        Backend::Sqlite => format!("SELECT {COLUMNS} FROM campaigns WHERE id = $1"),
        Backend::Postgres => format!("SELECT {COLUMNS} FROM campaigns WHERE id = $1 FOR UPDATE"),
    };
    let row: Option<CampaignRow> = sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    let row = row.ok_or(Changed::NotFound)?;
    let after = change(&row).map_err(Changed::Refused)?;
    sqlx::query(
        "UPDATE campaigns SET name = $1, active = $2, ends_at = $3, total_cap = $4 WHERE id = $5",
    )
    .bind(&after.name)
    .bind(i64::from(after.active))
    .bind(after.ends_at)
    .bind(after.total_cap)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    let before = Editable {
        name: row.name.clone(),
        active: row.active != 0,
        ends_at: row.ends_at,
        total_cap: row.total_cap,
    };
    audit::record(
        &mut tx,
        actor,
        "campaign.update",
        &format!("campaign:{id}"),
        &format!(
            "before={} after={}",
            serde_json::to_string(&before).unwrap_or_default(),
            serde_json::to_string(&after).unwrap_or_default()
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
