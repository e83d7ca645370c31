//! Manual issues: an admin grants a template to named members or a segment, one member
//! per transaction, under an idempotency key whose row carries the run's progress.

use crate::campaigns::store::INSERT_PACK;
use crate::coupons::store::coupons::{self, Campaign, Granted, IssueRefusal};
use crate::db::{audit, idempotency, Db, DbError};

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
