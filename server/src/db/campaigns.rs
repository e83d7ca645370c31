//! Campaigns: the admin's list and edits, claim links, manual issues, and the queries
//! the scheduled issuance job pages through. Every coupon still enters a wallet through
//! `coupons::grant` (once per campaign, member and period by the unique grant row), so
//! a retried claim, a repeated job run or a second instance never issues twice.
//!
//! Grants happen one member per transaction: a failure costs that member's grant, not
//! a whole segment, and a long run never holds the SQLite writer for more than a moment.

use rand::RngCore;
use serde::Serialize;

use super::coupons::{self, Campaign, Granted, IssueRefusal, ACTIVE};
use super::{audit, idempotency, Backend, Changed, Db, DbError};

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

const COLUMNS: &str = "id, kind, name, active, tier_code, birthday_window, member_day, \
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
const INSERT_PACK: &str =
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

// --- claim links -------------------------------------------------------------------

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

// --- manual issues -----------------------------------------------------------------

/// Idempotency scope of manual issues. The key's row holds the request hash (a
/// different body with the key → `idempotency_key_reused`) and the answer: status
/// `IN_PROGRESS` with the campaign id while grants are being made (a retry continues
/// them), 200 with the result once a run has finished (a retry replays it).
pub const ISSUE_SCOPE: &str = "admin-issue";
pub const IN_PROGRESS: u16 = 202;

pub struct ManualIssue<'a> {
    pub key: &'a str,
    pub request_hash: &'a str,
    pub template_id: i64,
    pub quantity: i64,
    pub reason: &'a str,
    pub actor: &'a str,
    pub created_by: &'a str,
    /// Who it goes to, for the audit row.
    pub targets: &'a str,
    pub now: i64,
}

pub enum IssueStart {
    /// Grant to the targets with this (manual) campaign.
    Run(Campaign),
    /// A finished run's answer.
    Done { status: u16, body: String },
}

#[derive(sqlx::FromRow)]
struct CampaignKey {
    id: i64,
    kind: String,
    name: String,
    total_cap: Option<i64>,
}

async fn campaign_by_id(
    conn: &mut sqlx::AnyConnection,
    id: i64,
) -> Result<Option<Campaign>, DbError> {
    let row: Option<CampaignKey> =
        sqlx::query_as("SELECT id, kind, name, total_cap FROM campaigns WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(row.map(|r| Campaign {
        id: r.id,
        kind: r.kind,
        name: r.name,
        total_cap: r.total_cap,
    }))
}

/// Claims the key and creates the manual campaign (pack = template × quantity) with its
/// audit row in one transaction, or finds what an earlier request with the key did.
pub async fn start_issue(db: &Db, m: &ManualIssue<'_>) -> Result<IssueStart, DbError> {
    let (mut tx, claim_id) =
        match idempotency::begin(db, ISSUE_SCOPE, m.key, m.request_hash, m.now).await? {
            idempotency::Begun::Claimed(tx, id) => (tx, id),
            idempotency::Begun::Replayed(replay) if replay.status == IN_PROGRESS => {
                let id = serde_json::from_str::<serde_json::Value>(&replay.body)
                    .ok()
                    .and_then(|v| v["campaign_id"].as_i64())
                    .ok_or(DbError::Corrupt("manual issue marker"))?;
                let mut conn = db.reader().acquire().await?;
                let campaign = campaign_by_id(&mut conn, id)
                    .await?
                    .ok_or(DbError::Corrupt("manual issue campaign"))?;
                return Ok(IssueStart::Run(campaign));
            }
            idempotency::Begun::Replayed(replay) => {
                return Ok(IssueStart::Done {
                    status: replay.status,
                    body: replay.body,
                })
            }
        };
    // `request_key` is unique: a key seen before (its idempotency row since cleaned up)
    // finds its old campaign instead of making a second one.
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO campaigns (kind, name, active, request_key, created_by, created_at) \
         VALUES ('manual', $1, 1, $2, $3, $4) ON CONFLICT (request_key) DO NOTHING RETURNING id",
    )
    .bind(m.reason)
    .bind(m.key)
    .bind(m.created_by)
    .bind(m.now)
    .fetch_optional(&mut *tx)
    .await?;
    let id = match id {
        Some(id) => {
            sqlx::query(INSERT_PACK)
                .bind(id)
                .bind(m.template_id)
                .bind(m.quantity)
                .execute(&mut *tx)
                .await?;
            audit::record(
                &mut tx,
                m.actor,
                "coupons.issue",
                &format!("campaign:{id}"),
                &format!(
                    "template={} quantity={} to={} reason={}",
                    m.template_id, m.quantity, m.targets, m.reason
                ),
                m.now,
            )
            .await?;
            id
        }
        None => {
            sqlx::query_scalar("SELECT id FROM campaigns WHERE request_key = $1")
                .bind(m.key)
                .fetch_one(&mut *tx)
                .await?
        }
    };
    sqlx::query(idempotency::COMPLETE)
        .bind(i64::from(IN_PROGRESS))
        .bind(serde_json::json!({ "campaign_id": id }).to_string())
        .bind(claim_id)
        .execute(&mut *tx)
        .await?;
    let campaign = campaign_by_id(&mut tx, id)
        .await?
        .ok_or(DbError::Corrupt("manual issue campaign"))?;
    tx.commit().await?;
    Ok(IssueStart::Run(campaign))
}

/// Stores a finished run's answer under the key, for replays.
pub async fn finish_issue(db: &Db, key: &str, body: &str) -> Result<(), DbError> {
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "UPDATE idempotency_keys SET status = 'done', response_status = 200, response_body = $1 \
         WHERE scope = $2 AND idem_key = $3",
    )
    .bind(body)
    .bind(ISSUE_SCOPE)
    .bind(key)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A member a manual issue goes to.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Target {
    pub id: i64,
    pub member_no: String,
}

/// Members by number (unknown numbers are simply absent).
pub async fn members_by_no(db: &Db, nos: &[String]) -> Result<Vec<Target>, DbError> {
    let mut out = Vec::with_capacity(nos.len());
    // Well under every backend's limit on bound parameters.
    for chunk in nos.chunks(100) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT id, member_no FROM members WHERE member_no IN ({}) ORDER BY id",
            marks.join(", ")
        );
        let mut q = sqlx::query_as::<_, Target>(&sql);
        for no in chunk {
            q = q.bind(no);
        }
        out.extend(q.fetch_all(db.reader()).await?);
    }
    Ok(out)
}

/// Who a segment issue goes to: every member, or those of `min_tier` and above and/or
/// those whose last purchase was at or before `purchased_before`.
#[derive(Debug, Clone, Default)]
pub struct SegmentFilter {
    pub min_tier: Option<String>,
    pub purchased_before: Option<i64>,
}

/// The next page of a segment, by member id.
pub async fn segment_page(
    db: &Db,
    f: &SegmentFilter,
    after: i64,
    limit: i64,
) -> Result<Vec<Target>, DbError> {
    let mut sql = String::from("SELECT m.id, m.member_no FROM members m WHERE m.id > $1");
    let mut n = 2;
    if f.min_tier.is_some() {
        sql.push_str(&format!(
            " AND (SELECT t.growth_threshold FROM tiers t WHERE t.code = m.tier_code) >= \
                  (SELECT r.growth_threshold FROM tiers r WHERE r.code = ${n})"
        ));
        n += 1;
    }
    if f.purchased_before.is_some() {
        sql.push_str(&format!(
            " AND m.last_purchase_at IS NOT NULL AND m.last_purchase_at <= ${n}"
        ));
        n += 1;
    }
    sql.push_str(&format!(" ORDER BY m.id LIMIT ${n}"));
    let mut q = sqlx::query_as::<_, Target>(&sql).bind(after);
    if let Some(t) = &f.min_tier {
        q = q.bind(t);
    }
    if let Some(at) = f.purchased_before {
        q = q.bind(at);
    }
    Ok(q.bind(limit).fetch_all(db.reader()).await?)
}

/// What granting one member did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OneGrant {
    /// A new grant with this many coupons (0 when every template refused and the grant
    /// is kept anyway, as scheduled campaigns do).
    New(i64),
    /// The member had this period's grant (with this many coupons).
    Already(i64),
    /// Nothing kept: every template refused (manual issues), or the member no longer
    /// qualifies (win-back after a new purchase) or is gone.
    Refused(Option<IssueRefusal>),
}

/// Which period a grant is for.
#[derive(Debug, Clone)]
pub enum Period {
    Fixed(String),
    /// Win-back: the member's last purchase time, read in the grant's transaction, which
    /// must still be at or before this cutoff.
    LastPurchase {
        cutoff: i64,
    },
}

/// Grants `campaign` to one member in a transaction of its own. `keep_empty`: keep the
/// grant row even if every template refused (scheduled runs: not retried every five
/// minutes); otherwise nothing is kept and the refusal is answered.
pub async fn grant_one(
    db: &Db,
    campaign: &Campaign,
    member_id: i64,
    period: &Period,
    keep_empty: bool,
    now: i64,
) -> Result<OneGrant, DbError> {
    let mut tx = db.begin_write().await?;
    let member: Option<(String, Option<i64>)> =
        sqlx::query_as("SELECT tier_code, last_purchase_at FROM members WHERE id = $1")
            .bind(member_id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((tier, last_purchase_at)) = member else {
        return Ok(OneGrant::Refused(None));
    };
    let period = match period {
        Period::Fixed(p) => p.clone(),
        Period::LastPurchase { cutoff } => match last_purchase_at {
            Some(at) if at <= *cutoff => at.to_string(),
            _ => return Ok(OneGrant::Refused(None)),
        },
    };
    match coupons::grant(&mut tx, campaign, member_id, &tier, &period, now).await? {
        Granted::New { issued, refused } => {
            if issued.is_empty() && !keep_empty {
                return Ok(OneGrant::Refused(refused.first().map(|r| r.1)));
            }
            tx.commit().await?;
            Ok(OneGrant::New(
                i64::try_from(issued.len()).unwrap_or(i64::MAX),
            ))
        }
        Granted::Already => {
            let n: i64 = sqlx::query_scalar(
                "SELECT coupons_issued FROM campaign_grants \
                 WHERE campaign_id = $1 AND member_id = $2 AND period = $3",
            )
            .bind(campaign.id)
            .bind(member_id)
            .bind(&period)
            .fetch_one(&mut *tx)
            .await?;
            Ok(OneGrant::Already(n))
        }
    }
}

// --- scheduled issuance ------------------------------------------------------------

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
        super::coupons::ACTIVE
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
