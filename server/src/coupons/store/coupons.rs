//! Issuing coupons: the one place coupons enter a wallet, whatever the channel (sign-up,
//! upgrade, birthday, member day, win-back, claim link, manual issue, the mall).
//!
//! Limits hold under concurrency without locks held across statements: a template's
//! total moves by a conditional update (`issued_count + n <= total_limit`), a member's
//! count by a conditional upsert, and a campaign reaches a member at most once per
//! period through the unique `(campaign_id, member_id, period)` grant row, which makes
//! every scheduled run, retry and second instance idempotent.
//!
//! Everything here runs inside the caller's transaction, so the coupons commit (or
//! vanish) together with whatever caused them (the new member, the upgrade, the order).

use member_core::coupons::{self, Validity, MAX_VALID_DAYS};
use rand::RngCore;
use sqlx::AnyConnection;

use crate::db::DbError;

/// Why a template gave a member nothing. The grant still counts (a scheduled run does
/// not retry it); a claim or a manual issue reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueRefusal {
    /// Switched off, or its fixed window has ended.
    Inactive,
    TierRequired,
    LimitReached,
    Exhausted,
}

impl IssueRefusal {
    /// The wire error code for this refusal.
    pub fn code(self) -> &'static str {
        use member_core::dto::codes;
        match self {
            Self::Inactive => codes::CAMPAIGN_CLOSED,
            Self::TierRequired => codes::TIER_REQUIRED,
            Self::LimitReached => codes::LIMIT_REACHED,
            Self::Exhausted => codes::COUPONS_EXHAUSTED,
        }
    }

    pub fn into_error(self) -> DbError {
        match self {
            Self::Inactive => DbError::CampaignClosed,
            Self::TierRequired => DbError::TierRequired,
            Self::LimitReached => DbError::LimitReached,
            Self::Exhausted => DbError::CouponsExhausted,
        }
    }
}

/// What issuing a template needs to know about it.
#[derive(sqlx::FromRow)]
struct Issuable {
    name: String,
    valid_from: Option<i64>,
    valid_until: Option<i64>,
    valid_days: Option<i64>,
    per_member_limit: Option<i64>,
    active: i64,
    /// The member's tier reaches the template's required tier (1), or none is required.
    tier_ok: i64,
}

/// Tier order is the growth threshold; `$2` is the member's tier code.
const ISSUABLE: &str = "SELECT t.name, t.valid_from, t.valid_until, t.valid_days, \
       t.per_member_limit, t.active, \
       CASE WHEN t.required_tier_code IS NULL THEN 1 \
            WHEN (SELECT mt.growth_threshold FROM tiers mt WHERE mt.code = $2) >= \
                 (SELECT rt.growth_threshold FROM tiers rt WHERE rt.code = t.required_tier_code) \
            THEN 1 ELSE 0 END AS tier_ok \
     FROM coupon_templates t WHERE t.id = $1";

const TAKE_TOTAL: &str = "UPDATE coupon_templates SET issued_count = issued_count + $1 \
     WHERE id = $2 AND (total_limit IS NULL OR issued_count + $1 <= total_limit)";
const GIVE_BACK_TOTAL: &str =
    "UPDATE coupon_templates SET issued_count = issued_count - $1 WHERE id = $2";
/// A first insert is checked against the limit by the caller; later ones by the WHERE.
const TAKE_MEMBER: &str = "INSERT INTO coupon_member_counts (member_id, template_id, issued) \
     VALUES ($1, $2, $3) ON CONFLICT (member_id, template_id) DO UPDATE \
     SET issued = coupon_member_counts.issued + excluded.issued \
     WHERE coupon_member_counts.issued + excluded.issued <= $4";
const INSERT_COUPON: &str =
    "INSERT INTO coupons (code, template_id, member_id, source, source_ref, \
       status, valid_from, expires_at, issued_at) \
     VALUES ($1, $2, $3, $4, $5, 'issued', $6, $7, $8) ON CONFLICT (code) DO NOTHING RETURNING id";

/// Attempts at a fresh coupon code (49-bit codes: a second collision is not luck).
const CODE_ATTEMPTS: usize = 3;

fn new_code() -> String {
    let mut bytes = [0u8; coupons::CODE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    coupons::code_from_random(&bytes)
}

/// One coupon issue: `quantity` coupons of a template to a member.
pub struct Issue<'a> {
    pub template_id: i64,
    pub member_id: i64,
    /// The member's tier now (inside an upgrade: the tier reached).
    pub member_tier: &'a str,
    pub quantity: i64,
    /// `signup`, `upgrade`, `birthday`, `member_day`, `winback`, `claim`, `manual`, `mall`
    pub source: &'a str,
    pub source_ref: &'a str,
    pub now: i64,
}

/// Coupons put in a wallet: `(id, template name)` per coupon.
pub type Issued = Vec<(i64, String)>;

/// Issues inside the caller's transaction. `Ok(Err(_))` is a business refusal that
/// changed nothing; `Err(_)` a failure the caller rolls back.
pub async fn issue(
    conn: &mut AnyConnection,
    i: &Issue<'_>,
) -> Result<Result<Issued, IssueRefusal>, DbError> {
    if i.quantity <= 0 {
        return Ok(Ok(Vec::new()));
    }
    let t: Option<Issuable> = sqlx::query_as(ISSUABLE)
        .bind(i.template_id)
        .bind(i.member_tier)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(t) = t else {
        return Ok(Err(IssueRefusal::Inactive));
    };
    if t.active == 0 || t.valid_until.is_some_and(|until| i.now >= until) {
        return Ok(Err(IssueRefusal::Inactive));
    }
    if t.tier_ok == 0 {
        return Ok(Err(IssueRefusal::TierRequired));
    }
    let validity = match (t.valid_from, t.valid_until, t.valid_days) {
        (_, _, Some(days)) => Validity::Days(
            u32::try_from(days.clamp(1, i64::from(MAX_VALID_DAYS))).unwrap_or(MAX_VALID_DAYS),
        ),
        (from, Some(until), None) => Validity::Fixed {
            from: from.unwrap_or(i.now),
            until,
        },
        _ => return Err(DbError::Corrupt("coupon template without validity")),
    };
    if let Some(limit) = t.per_member_limit {
        if i.quantity > limit {
            return Ok(Err(IssueRefusal::LimitReached));
        }
    }
    let took = sqlx::query(TAKE_TOTAL)
        .bind(i.quantity)
        .bind(i.template_id)
        .execute(&mut *conn)
        .await?;
    if took.rows_affected() != 1 {
        return Ok(Err(IssueRefusal::Exhausted));
    }
    // Counted with or without a limit: a limit set later must count what is held.
    {
        let limit = t.per_member_limit.unwrap_or(i64::MAX);
        let counted = sqlx::query(TAKE_MEMBER)
            .bind(i.member_id)
            .bind(i.template_id)
            .bind(i.quantity)
            .bind(limit)
            .execute(&mut *conn)
            .await?;
        if counted.rows_affected() != 1 {
            sqlx::query(GIVE_BACK_TOTAL)
                .bind(i.quantity)
                .bind(i.template_id)
                .execute(&mut *conn)
                .await?;
            return Ok(Err(IssueRefusal::LimitReached));
        }
    }
    let (valid_from, expires_at) = validity.window(i.now);
    let mut issued = Vec::new();
    for _ in 0..i.quantity {
        let mut id = None;
        for _ in 0..CODE_ATTEMPTS {
            id = sqlx::query_scalar::<_, i64>(INSERT_COUPON)
                .bind(new_code())
                .bind(i.template_id)
                .bind(i.member_id)
                .bind(i.source)
                .bind(i.source_ref)
                .bind(valid_from)
                .bind(expires_at)
                .bind(i.now)
                .fetch_optional(&mut *conn)
                .await?;
            if id.is_some() {
                break;
            }
        }
        let id = id.ok_or(DbError::Corrupt("could not draw a free coupon code"))?;
        issued.push((id, t.name.clone()));
    }
    Ok(Ok(issued))
}

/// A campaign as issuing needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Campaign {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub total_cap: Option<i64>,
}

/// Active now: switched on and inside its window. `$1` = now.
pub const ACTIVE: &str = "active = 1 AND (starts_at IS NULL OR starts_at <= $1) \
                          AND (ends_at IS NULL OR $1 < ends_at)";

/// What granting a campaign to a member did.
#[derive(Debug)]
pub enum Granted {
    /// First grant for this period: the coupons issued, and each template that gave
    /// nothing with the reason.
    New {
        issued: Issued,
        refused: Vec<(i64, IssueRefusal)>,
    },
    /// The member had this period's grant already (a repeated run, a retry, a second
    /// instance): nothing issued.
    Already,
}

const INSERT_GRANT: &str =
    "INSERT INTO campaign_grants (campaign_id, member_id, period, granted_at) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (campaign_id, member_id, period) DO NOTHING RETURNING id";
const COUNT_GRANT: &str = "UPDATE campaigns SET granted_count = granted_count + 1 \
     WHERE id = $1 AND (total_cap IS NULL OR granted_count < total_cap)";
const PACK: &str = "SELECT template_id, quantity FROM campaign_coupons WHERE campaign_id = $1 \
                    ORDER BY template_id";

/// Grants `campaign`'s coupon pack to a member once per `period`, inside the caller's
/// transaction. A capped campaign (claim link) that is full answers
/// `DbError::CouponsExhausted`, and the caller must roll back (the grant row is written).
pub async fn grant(
    conn: &mut AnyConnection,
    campaign: &Campaign,
    member_id: i64,
    member_tier: &str,
    period: &str,
    now: i64,
) -> Result<Granted, DbError> {
    let grant_id: Option<i64> = sqlx::query_scalar(INSERT_GRANT)
        .bind(campaign.id)
        .bind(member_id)
        .bind(period)
        .bind(now)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(grant_id) = grant_id else {
        return Ok(Granted::Already);
    };
    // Claim links always keep a running count (a cap may be set later and must count
    // what was claimed before); other campaigns (member day for everyone) don't, or every
    // grant would queue on the campaign row.
    if campaign.total_cap.is_some() || campaign.kind == "claim" {
        let counted = sqlx::query(COUNT_GRANT)
            .bind(campaign.id)
            .execute(&mut *conn)
            .await?;
        if counted.rows_affected() != 1 {
            return Err(DbError::CouponsExhausted);
        }
    }
    let pack: Vec<(i64, i64)> = sqlx::query_as(PACK)
        .bind(campaign.id)
        .fetch_all(&mut *conn)
        .await?;
    let source_ref = format!("campaign:{}:{}", campaign.id, period);
    let mut issued = Vec::new();
    let mut refused = Vec::new();
    for (template_id, quantity) in pack {
        let outcome = issue(
            conn,
            &Issue {
                template_id,
                member_id,
                member_tier,
                quantity,
                source: &campaign.kind,
                source_ref: &source_ref,
                now,
            },
        )
        .await?;
        match outcome {
            Ok(mut coupons) => issued.append(&mut coupons),
            Err(why) => refused.push((template_id, why)),
        }
    }
    sqlx::query("UPDATE campaign_grants SET coupons_issued = $1 WHERE id = $2")
        .bind(i64::try_from(issued.len()).unwrap_or(i64::MAX))
        .bind(grant_id)
        .execute(&mut *conn)
        .await?;
    Ok(Granted::New { issued, refused })
}

/// `grant` for gifts that come with something else (a sign-up's welcome gift, a
/// referral pack): a campaign that is full gives nothing instead of failing the caller,
/// and a savepoint takes back its grant row. `None` when full.
pub async fn grant_if_room(
    conn: &mut AnyConnection,
    campaign: &Campaign,
    member_id: i64,
    member_tier: &str,
    period: &str,
    now: i64,
) -> Result<Option<Granted>, DbError> {
    let mut savepoint = sqlx::Connection::begin(&mut *conn).await?;
    match grant(
        &mut savepoint,
        campaign,
        member_id,
        member_tier,
        period,
        now,
    )
    .await
    {
        Ok(granted) => {
            savepoint.commit().await?;
            Ok(Some(granted))
        }
        Err(DbError::CouponsExhausted) => {
            savepoint.rollback().await?;
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Active campaigns of one kind (for upgrades: of the tier reached).
pub async fn active_of_kind(
    conn: &mut AnyConnection,
    kind: &str,
    tier_code: Option<&str>,
    now: i64,
) -> Result<Vec<Campaign>, DbError> {
    let sql = format!(
        "SELECT id, kind, name, total_cap FROM campaigns WHERE {ACTIVE} AND kind = $2 \
         AND ($3 IS NULL OR tier_code = $3) ORDER BY id"
    );
    Ok(sqlx::query_as(&sql)
        .bind(now)
        .bind(kind)
        .bind(tier_code)
        .fetch_all(&mut *conn)
        .await?)
}

/// The welcome pack: every active sign-up campaign, inside the sign-up transaction.
/// A template that is exhausted or switched off gives nothing; the sign-up still
/// succeeds.
pub async fn grant_signup(
    conn: &mut AnyConnection,
    member_id: i64,
    member_tier: &str,
    now: i64,
) -> Result<Issued, DbError> {
    let mut issued = Vec::new();
    for campaign in active_of_kind(conn, "signup", None, now).await? {
        if let Granted::New { issued: mut c, .. } =
            grant(conn, &campaign, member_id, member_tier, "", now).await?
        {
            issued.append(&mut c);
        }
    }
    Ok(issued)
}

/// Upgrade gift packs for every tier passed on the way to `reached` (once ever per
/// tier), inside the purchase's transaction. `passed` lists the tier codes above the
/// old tier up to and including the new one.
pub async fn grant_upgrade(
    conn: &mut AnyConnection,
    member_id: i64,
    passed: &[String],
    reached: &str,
    now: i64,
) -> Result<Issued, DbError> {
    let mut issued = Vec::new();
    for tier in passed {
        for campaign in active_of_kind(conn, "upgrade", Some(tier), now).await? {
            if let Granted::New { issued: mut c, .. } =
                grant(conn, &campaign, member_id, reached, "", now).await?
            {
                issued.append(&mut c);
            }
        }
    }
    Ok(issued)
}
