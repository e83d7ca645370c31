//! Members: sign-in/sign-up and what the member and the cashier read.

use member_core::card_code::member_no_from_random;
use sqlx::AnyConnection;

use crate::auth::store::otp;
use crate::auth::store::sessions::{self, Kind};
use crate::db::{Db, DbError};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberRow {
    pub id: i64,
    pub member_no: String,
    pub phone: String,
    pub name: String,
    pub tier_code: String,
    pub points: i64,
    pub growth: i64,
    pub card_key: Vec<u8>,
    pub last_code_step: Option<i64>,
    pub marketing_consent: i64,
    pub window_spend_cents: i64,
    pub birth_month: Option<i64>,
    pub birth_day: Option<i64>,
    /// The current evaluation period (`None` when the tier is not evaluated).
    pub period_start: Option<i64>,
    pub period_end: Option<i64>,
}

impl MemberRow {
    pub fn birthday(&self) -> Option<member_core::coupons::Birthday> {
        let m = u32::try_from(self.birth_month?).ok()?;
        let d = u32::try_from(self.birth_day?).ok()?;
        member_core::coupons::Birthday::new(m, d)
    }
}

const COLUMNS: &str = "id, member_no, phone, name, tier_code, points, growth, card_key, \
                       last_code_step, marketing_consent, window_spend_cents, birth_month, \
                       birth_day, period_start, period_end";

pub async fn by_id(db: &Db, id: i64) -> Result<Option<MemberRow>, DbError> {
    Ok(
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM members WHERE id = $1"))
            .bind(id)
            .fetch_optional(db.reader())
            .await?,
    )
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ScannedRow {
    #[sqlx(flatten)]
    pub member: MemberRow,
    pub tier_name: String,
}

/// The member behind a scanned code, with their tier's name (one query: this is the
/// checkout's hot path).
pub async fn scanned(db: &Db, member_no: &str) -> Result<Option<ScannedRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT m.id, m.member_no, m.phone, m.name, m.tier_code, m.points, m.growth, m.card_key, \
                m.last_code_step, m.marketing_consent, m.window_spend_cents, m.birth_month, \
                m.birth_day, m.period_start, m.period_end, t.name AS tier_name \
         FROM members m JOIN tiers t ON t.code = m.tier_code WHERE m.member_no = $1",
    )
    .bind(member_no)
    .fetch_optional(db.reader())
    .await?)
}

/// The member with this phone (E.164), with their tier's name: the till's look-up for a
/// member who can't show a card.
pub async fn scanned_by_phone(db: &Db, phone: &str) -> Result<Option<ScannedRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT m.id, m.member_no, m.phone, m.name, m.tier_code, m.points, m.growth, m.card_key, \
                m.last_code_step, m.marketing_consent, m.window_spend_cents, m.birth_month, \
                m.birth_day, m.period_start, m.period_end, t.name AS tier_name \
         FROM members m JOIN tiers t ON t.code = m.tier_code WHERE m.phone = $1",
    )
    .bind(phone)
    .fetch_optional(db.reader())
    .await?)
}

async fn by_phone_in(conn: &mut AnyConnection, phone: &str) -> Result<Option<MemberRow>, DbError> {
    Ok(
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM members WHERE phone = $1"))
            .bind(phone)
            .fetch_optional(conn)
            .await?,
    )
}

pub struct SignIn<'a> {
    pub phone: &'a str,
    pub code_hmac: &'a str,
    /// Already trimmed and length-checked; required only for a new member.
    pub name: Option<&'a str>,
    pub marketing_consent: bool,
    pub session_hmac: &'a str,
    pub session_expires_at: i64,
    pub now: i64,
    /// What a new member brings from the sign-up page (ignored for an existing one).
    pub joining: Joining<'a>,
}

/// A new member's attribution and profile, all optional, already validated.
#[derive(Debug, Default, Clone)]
pub struct Joining<'a> {
    /// The valid sign-up link that brought them.
    pub link: Option<Attribution>,
    pub referral_code: Option<&'a str>,
    pub birthday: Option<member_core::civil::Date>,
    pub gender: Option<&'static str>,
    pub city: Option<&'a str>,
    /// The first field the brand requires that is missing, if any.
    pub missing: Option<&'static str>,
}

#[derive(Debug, Clone)]
pub struct Attribution {
    pub link_id: i64,
    pub store_id: i64,
    pub channel: String,
    pub staff_id: Option<i64>,
    /// The link's welcome gift (a claim campaign).
    pub campaign_id: Option<i64>,
}

pub struct SignedIn {
    pub member_id: i64,
    pub new_member: bool,
}

/// Verifies the OTP and signs the phone in, creating the member (lowest tier, fresh card
/// key, random member number) on first sign-in. All or nothing, in one transaction.
pub async fn sign_in(db: &Db, s: SignIn<'_>) -> Result<SignedIn, DbError> {
    let tx = db.begin_write().await?;
    let (mut tx, code_id) = otp::check(tx, s.phone, s.code_hmac, s.now).await?;
    let existing = by_phone_in(&mut tx, s.phone).await?;
    if existing.is_none() && (s.name.is_none() || s.joining.missing.is_some()) {
        // Keep the spent try but not the code: the person can resend with a name.
        tx.commit().await?;
        return Err(match (s.name, s.joining.missing) {
            (None, _) => DbError::NameRequired,
            (Some(_), Some(field)) => DbError::FieldRequired(field),
            (Some(_), None) => DbError::NameRequired,
        });
    }
    otp::consume(&mut tx, code_id).await?;
    let signed_in = match (existing, s.name) {
        (Some(member), _) => returning(&mut tx, &s, &member).await?,
        (None, Some(name)) => match create(&mut tx, db.backend(), &s, name).await? {
            Created::New(member_id) => SignedIn {
                member_id,
                new_member: true,
            },
            // A concurrent first sign-in for this phone won: sign in that member.
            Created::Exists(member) => returning(&mut tx, &s, &member).await?,
        },
        (None, None) => return Err(DbError::NameRequired),
    };
    sessions::create(
        &mut tx,
        s.session_hmac,
        Kind::Member,
        signed_in.member_id,
        s.session_expires_at,
        s.now,
    )
    .await?;
    tx.commit().await?;
    Ok(signed_in)
}

/// An existing member signing in again: records a newly given marketing consent.
async fn returning(
    tx: &mut AnyConnection,
    s: &SignIn<'_>,
    member: &MemberRow,
) -> Result<SignedIn, DbError> {
    if s.marketing_consent && member.marketing_consent == 0 {
        sqlx::query(
            "UPDATE members SET marketing_consent = 1, marketing_consent_at = $1 WHERE id = $2",
        )
        .bind(s.now)
        .bind(member.id)
        .execute(&mut *tx)
        .await?;
    }
    Ok(SignedIn {
        member_id: member.id,
        new_member: false,
    })
}

enum Created {
    New(i64),
    /// The phone was taken meanwhile (a concurrent first sign-in committed first).
    Exists(Box<MemberRow>),
}

async fn create(
    tx: &mut AnyConnection,
    backend: crate::db::Backend,
    s: &SignIn<'_>,
    name: &str,
) -> Result<Created, DbError> {
    let tier: Option<String> =
        sqlx::query_scalar("SELECT code FROM tiers ORDER BY growth_threshold LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
    let tier = tier.ok_or(DbError::NoTiers)?;
    let key = crate::crypto::card_key();
    // Member numbers are random (not guessable from sign-up order); a collision just
    // draws again. A conflict on `phone` means another sign-in created this member after
    // our look-up (Postgres waits for it to commit; read committed then sees its row).
    for _ in 0..8 {
        let member_no = member_no_from_random(crate::crypto::random_u64());
        let j = &s.joining;
        let link = j.link.as_ref();
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO members (member_no, phone, name, tier_code, card_key, \
                                  privacy_consent_at, marketing_consent, marketing_consent_at, created_at, \
                                  signup_link_id, signup_store_id, signup_channel, signup_staff_id, \
                                  birth_year, birth_month, birth_day, birthday_set_at, gender, city) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $6, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
             ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(&member_no)
        .bind(s.phone)
        .bind(name)
        .bind(&tier)
        .bind(key.as_bytes().to_vec())
        .bind(s.now)
        .bind(i64::from(s.marketing_consent))
        .bind(s.marketing_consent.then_some(s.now))
        .bind(link.map(|l| l.link_id))
        .bind(link.map(|l| l.store_id))
        .bind(link.map(|l| l.channel.clone()))
        .bind(link.and_then(|l| l.staff_id))
        .bind(j.birthday.map(|d| d.year))
        .bind(j.birthday.map(|d| i64::from(d.month)))
        .bind(j.birthday.map(|d| i64::from(d.day)))
        .bind(j.birthday.map(|_| s.now))
        .bind(j.gender)
        .bind(j.city)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(id) = id {
            // The welcome pack commits with the member (or not at all).
            crate::coupons::store::coupons::grant_signup(&mut *tx, id, &tier, s.now).await?;
            welcome(&mut *tx, backend, s, id, &tier).await?;
            return Ok(Created::New(id));
        }
        if let Some(member) = by_phone_in(&mut *tx, s.phone).await? {
            return Ok(Created::Exists(Box::new(member)));
        }
    }
    Err(DbError::Corrupt("could not draw a free member number"))
}

/// The link's welcome gift and the referral, in the new member's transaction.
async fn welcome(
    tx: &mut AnyConnection,
    backend: crate::db::Backend,
    s: &SignIn<'_>,
    member_id: i64,
    tier: &str,
) -> Result<(), DbError> {
    if let Some(campaign_id) = s.joining.link.as_ref().and_then(|l| l.campaign_id) {
        let campaign =
            crate::signup::store::referrals::claim_campaign(&mut *tx, campaign_id, s.now).await?;
        if let Some(c) = campaign {
            // A campaign past its cap or window gives nothing; the sign-up still counts.
            crate::coupons::store::coupons::grant_if_room(&mut *tx, &c, member_id, tier, "", s.now)
                .await?;
        }
    }
    if let Some(code) = s.joining.referral_code {
        let rules = crate::signup::store::signup_links::settings_in(&mut *tx)
            .await?
            .referral;
        crate::signup::store::referrals::attach(
            &mut *tx, backend, code, member_id, s.phone, &rules, s.now,
        )
        .await?;
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
pub struct LedgerRow {
    pub id: i64,
    pub kind: String,
    pub points: i64,
    pub reason: String,
    pub created_at: i64,
    pub store_name: Option<String>,
    /// For a credit (earn, positive adjust): when its batch expires, if it does.
    pub expires_at: Option<i64>,
    /// An order reference or a batch: for staff and audit, never shown to the member.
    pub source_ref: Option<String>,
    /// `member_core::dto::LedgerEvent` as JSON; NULL on older rows.
    pub event: Option<String>,
}

/// Newest first; `before` is the id of the last row of the previous page. A credit has
/// one batch (`ledger_id`), other rows none.
pub async fn ledger_page(
    db: &Db,
    member_id: i64,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<LedgerRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT l.id, l.kind, l.points, l.reason, l.created_at, s.name AS store_name, \
                b.expires_at, l.source_ref, l.event \
         FROM points_ledger l LEFT JOIN stores s ON s.id = l.store_id \
         LEFT JOIN points_batches b ON b.ledger_id = l.id \
         WHERE l.member_id = $1 AND l.id < $2 ORDER BY l.id DESC LIMIT $3",
    )
    .bind(member_id)
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(db.reader())
    .await?)
}
