//! Signed sign-up links (the QR codes on posters, packaging and cashiers' badges) and
//! the brand's sign-up settings. A link row holds the attribution; the token in the URL
//! is its id plus an HMAC over every attribution field, so a code can't be forged or
//! pointed at another store.

use member_core::dto::{ReferralRules, SignupFields, SignupSettings};
use sqlx::AnyConnection;

use crate::db::{audit, Db, DbError};

pub fn default_settings() -> SignupSettings {
    SignupSettings {
        brand_name: "会员中心".into(),
        call_to_action: "扫码入会 领新人礼".into(),
        fields: SignupFields::default(),
        referral: ReferralRules {
            enabled: false,
            referrer_points: 0,
            friend_points: 0,
            referrer_campaign_id: None,
            friend_campaign_id: None,
            daily_cap: 5,
        },
    }
}

pub async fn settings_in(conn: &mut AnyConnection) -> Result<SignupSettings, DbError> {
    let body: Option<String> = sqlx::query_scalar("SELECT body FROM signup_settings WHERE id = 1")
        .fetch_optional(conn)
        .await?;
    parse_settings(body)
}

pub async fn settings(db: &Db) -> Result<SignupSettings, DbError> {
    let body: Option<String> = sqlx::query_scalar("SELECT body FROM signup_settings WHERE id = 1")
        .fetch_optional(db.reader())
        .await?;
    parse_settings(body)
}

fn parse_settings(body: Option<String>) -> Result<SignupSettings, DbError> {
    match body {
        None => Ok(default_settings()),
        Some(b) => serde_json::from_str(&b).map_err(|_| DbError::Corrupt("signup settings")),
    }
}

/// Stores validated settings and audits the change.
pub async fn save_settings(
    db: &Db,
    s: &SignupSettings,
    actor: &str,
    now: i64,
) -> Result<(), DbError> {
    let body = serde_json::to_string(s).map_err(|_| DbError::Corrupt("signup settings"))?;
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO signup_settings (id, body, updated_by, updated_at) VALUES (1, $1, $2, $3) \
         ON CONFLICT (id) DO UPDATE SET body = excluded.body, updated_by = excluded.updated_by, \
         updated_at = excluded.updated_at",
    )
    .bind(&body)
    .bind(actor)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        "signup.settings",
        "signup_settings",
        &body,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A claim campaign that exists (welcome gifts and referral rewards are claim
/// campaigns: they have their own caps and windows).
pub async fn claim_campaign_exists(db: &Db, id: i64) -> Result<bool, DbError> {
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM campaigns WHERE id = $1 AND kind = 'claim'")
            .bind(id)
            .fetch_one(db.reader())
            .await?;
    Ok(n > 0)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LinkRow {
    pub id: i64,
    pub store_id: i64,
    pub store_code: String,
    pub store_name: String,
    pub channel: String,
    pub staff_id: Option<i64>,
    pub staff_username: Option<String>,
    pub campaign_id: Option<i64>,
    pub label: String,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub created_at: i64,
    pub signups: i64,
}

impl LinkRow {
    pub fn signed_text(&self) -> String {
        member_core::signup::LinkToken::signed_text(
            self.id,
            self.store_id,
            &self.channel,
            self.staff_id,
            self.campaign_id,
            self.expires_at,
        )
    }
}

const SELECT: &str = "SELECT l.id, l.store_id, s.code AS store_code, s.name AS store_name, \
        l.channel, l.staff_id, u.username AS staff_username, l.campaign_id, l.label, \
        l.expires_at, l.revoked_at, l.created_at, \
        (SELECT COUNT(*) FROM members m WHERE m.signup_link_id = l.id) AS signups \
     FROM signup_links l JOIN stores s ON s.id = l.store_id \
     LEFT JOIN staff_users u ON u.id = l.staff_id";
/// The same without the sign-up count: what a scan needs (the welcome page, sign-up).
const SELECT_FOR_SCAN: &str =
    "SELECT l.id, l.store_id, s.code AS store_code, s.name AS store_name, \
        l.channel, l.staff_id, u.username AS staff_username, l.campaign_id, l.label, \
        l.expires_at, l.revoked_at, l.created_at, CAST(0 AS BIGINT) AS signups \
     FROM signup_links l JOIN stores s ON s.id = l.store_id \
     LEFT JOIN staff_users u ON u.id = l.staff_id";

/// A link as a scan resolves it (no sign-up count).
pub async fn for_scan(db: &Db, id: i64) -> Result<Option<LinkRow>, DbError> {
    Ok(
        sqlx::query_as(&format!("{SELECT_FOR_SCAN} WHERE l.id = $1"))
            .bind(id)
            .fetch_optional(db.reader())
            .await?,
    )
}

pub async fn by_id(db: &Db, id: i64) -> Result<Option<LinkRow>, DbError> {
    Ok(sqlx::query_as(&format!("{SELECT} WHERE l.id = $1"))
        .bind(id)
        .fetch_optional(db.reader())
        .await?)
}

/// Newest first; a manager's list is their store's.
pub async fn list(db: &Db, store_id: Option<i64>) -> Result<Vec<LinkRow>, DbError> {
    Ok(sqlx::query_as(&format!(
        "{SELECT} WHERE ($1 IS NULL OR l.store_id = $1) ORDER BY l.id DESC LIMIT 500"
    ))
    .bind(store_id)
    .fetch_all(db.reader())
    .await?)
}

pub struct NewLink<'a> {
    pub store_id: i64,
    pub channel: &'a str,
    pub staff_id: Option<i64>,
    pub campaign_id: Option<i64>,
    pub label: &'a str,
    pub expires_at: Option<i64>,
    pub actor: &'a str,
    pub now: i64,
}

pub async fn create(db: &Db, n: &NewLink<'_>) -> Result<i64, DbError> {
    let mut tx = db.begin_write().await?;
    let id = insert(&mut tx, n).await?;
    audit::record(
        &mut tx,
        n.actor,
        "signup_link.create",
        &format!("signup_link:{id}"),
        &format!(
            "store_id={} channel={} staff_id={:?} campaign_id={:?} expires_at={:?}",
            n.store_id, n.channel, n.staff_id, n.campaign_id, n.expires_at
        ),
        n.now,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

async fn insert(conn: &mut AnyConnection, n: &NewLink<'_>) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO signup_links (store_id, channel, staff_id, campaign_id, label, expires_at, \
                                   created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(n.store_id)
    .bind(n.channel)
    .bind(n.staff_id)
    .bind(n.campaign_id)
    .bind(n.label)
    .bind(n.expires_at)
    .bind(n.actor)
    .bind(n.now)
    .fetch_one(conn)
    .await?)
}

/// A cashier's personal code: the one they have, or a new one (concurrent first calls
/// meet on the partial unique index and both return the same link).
pub async fn personal(
    db: &Db,
    store_id: i64,
    staff_id: i64,
    actor: &str,
    now: i64,
) -> Result<i64, DbError> {
    const FIND: &str = "SELECT id FROM signup_links WHERE staff_id = $1 AND channel = 'staff' \
                        AND revoked_at IS NULL AND campaign_id IS NULL AND expires_at IS NULL";
    let found: Option<i64> = sqlx::query_scalar(FIND)
        .bind(staff_id)
        .fetch_optional(db.reader())
        .await?;
    if let Some(id) = found {
        return Ok(id);
    }
    let mut tx = db.begin_write().await?;
    let n = NewLink {
        store_id,
        channel: "staff",
        staff_id: Some(staff_id),
        campaign_id: None,
        label: "",
        expires_at: None,
        actor,
        now,
    };
    let inserted: Option<i64> = sqlx::query_scalar(
        "INSERT INTO signup_links (store_id, channel, staff_id, label, created_by, created_at) \
         VALUES ($1, 'staff', $2, '', $3, $4) ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(n.store_id)
    .bind(staff_id)
    .bind(actor)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    let id = match inserted {
        Some(id) => id,
        None => {
            sqlx::query_scalar(FIND)
                .bind(staff_id)
                .fetch_one(&mut *tx)
                .await?
        }
    };
    tx.commit().await?;
    Ok(id)
}

/// Revokes a link (idempotent); `false` if there is no such link in the caller's scope.
pub async fn revoke(
    db: &Db,
    id: i64,
    store_id: Option<i64>,
    actor: &str,
    now: i64,
) -> Result<bool, DbError> {
    let mut tx = db.begin_write().await?;
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM signup_links WHERE id = $1 AND ($2 IS NULL OR store_id = $2)",
    )
    .bind(id)
    .bind(store_id)
    .fetch_one(&mut *tx)
    .await?;
    if n == 0 {
        return Ok(false);
    }
    sqlx::query("UPDATE signup_links SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        actor,
        "signup_link.revoke",
        &format!("signup_link:{id}"),
        "",
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}
