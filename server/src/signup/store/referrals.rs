//! Referrals ("邀请好友"): a member's share code, the friend's sign-up with it, and the
//! rewards, held until the friend's first purchase.
//!
//! Abuse rules live in the schema and in single statements: a friend's phone has at
//! most one referral ever (`friend_phone` UNIQUE), a member can't refer themselves (an
//! existing member never gets a referral row: only a new member does), and each
//! referrer's rewardable referrals per local day stop at the cap (the referrer's row is
//! locked while counting, so concurrent sign-ups can't both take the last place).

use member_core::civil;
use member_core::dto::{LedgerEvent, ReferralReward, ReferralRules, ReferralView};
use member_core::points::LedgerKind;
use member_core::signup::{normalize_referral_code, referral_code_from_random};
use sqlx::AnyConnection;

use crate::coupons::store::coupons::{self, Campaign};
use crate::db::batch::Stmt;
use crate::db::{Backend, Db, DbError, Tx};
use crate::points::store::ledger::{self, Debt, Entry};

/// The member's code, created on first ask (a collision just draws again).
pub async fn code_for(db: &Db, member_id: i64) -> Result<String, DbError> {
    let existing: Option<String> =
        sqlx::query_scalar("SELECT referral_code FROM members WHERE id = $1")
            .bind(member_id)
            .fetch_optional(db.reader())
            .await?
            .flatten();
    if let Some(code) = existing {
        return Ok(code);
    }
    for _ in 0..8 {
        let code = referral_code_from_random(crate::crypto::random_u64());
        let mut tx = db.begin_write().await?;
        let taken: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM members WHERE referral_code = $1")
                .bind(&code)
                .fetch_one(&mut *tx)
                .await?;
        if taken == 0 {
            sqlx::query(
                "UPDATE members SET referral_code = $1 WHERE id = $2 AND referral_code IS NULL",
            )
            .bind(&code)
            .bind(member_id)
            .execute(&mut *tx)
            .await?;
        }
        let now: Option<String> =
            sqlx::query_scalar("SELECT referral_code FROM members WHERE id = $1")
                .bind(member_id)
                .fetch_optional(&mut *tx)
                .await?
                .flatten();
        tx.commit().await?;
        if let Some(code) = now {
            return Ok(code);
        }
    }
    Err(DbError::Corrupt("could not draw a free referral code"))
}

/// The referrer behind a code, if any: (id, masked name).
pub async fn referrer(db: &Db, code: &str) -> Result<Option<(i64, String)>, DbError> {
    let Some(code) = normalize_referral_code(code) else {
        return Ok(None);
    };
    Ok(
        sqlx::query_as("SELECT id, name FROM members WHERE referral_code = $1")
            .bind(code)
            .fetch_optional(db.reader())
            .await?,
    )
}

/// Records that a new member signed up with `code` (inside the sign-up transaction).
/// Nothing happens for an unknown code or when referrals are off; the row is `capped`
/// when the referrer's day is full (the sign-up itself always goes through).
pub async fn attach(
    conn: &mut AnyConnection,
    backend: Backend,
    code: &str,
    friend_id: i64,
    friend_phone: &str,
    rules: &ReferralRules,
    now: i64,
) -> Result<(), DbError> {
    let Some(code) = normalize_referral_code(code) else {
        return Ok(());
    };
    if !rules.enabled {
        return Ok(());
    }
    let lock = match backend {
        Backend::Sqlite => "SELECT id FROM members WHERE referral_code = $1",
        Backend::Postgres => "SELECT id FROM members WHERE referral_code = $1 FOR NO KEY UPDATE",
    };
    let referrer: Option<i64> = sqlx::query_scalar(lock)
        .bind(&code)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(referrer_id) = referrer.filter(|&r| r != friend_id) else {
        return Ok(());
    };
    let day = (now + civil::TZ_OFFSET_SECS).div_euclid(civil::DAY_SECS);
    sqlx::query(
        "INSERT INTO referrals (referrer_id, friend_id, friend_phone, status, local_day, created_at, \
                                referrer_points, friend_points, referrer_campaign_id, friend_campaign_id) \
         SELECT $1, $2, $3, CASE WHEN (SELECT COUNT(*) FROM referrals \
                                       WHERE referrer_id = $1 AND local_day = $4 \
                                       AND status <> 'capped') < $5 \
                                 THEN 'held' ELSE 'capped' END, $4, $6, $7, $8, $9, $10 \
         ON CONFLICT DO NOTHING",
    )
    .bind(referrer_id)
    .bind(friend_id)
    .bind(friend_phone)
    .bind(day)
    .bind(rules.daily_cap.max(0))
    .bind(now)
    .bind(rules.referrer_points.max(0))
    .bind(rules.friend_points.max(0))
    .bind(rules.referrer_campaign_id)
    .bind(rules.friend_campaign_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The referral rewards a friend's first purchase releases, as statements to run in the
/// purchase's transaction (the friend is locked already). `None` when the friend has no
/// held referral. Marks it rewarded first, so a retried or concurrent purchase finds
/// nothing to release. The rewards are the ones promised at sign-up (stored on the row).
pub struct Released {
    pub friend_points: i64,
    pub statements: Vec<Stmt>,
}

#[derive(sqlx::FromRow)]
struct Held {
    referrer_id: i64,
    referrer_points: i64,
    friend_points: i64,
    referrer_campaign_id: Option<i64>,
    friend_campaign_id: Option<i64>,
}

pub async fn release_on_first_purchase(
    tx: &mut Tx,
    backend: Backend,
    friend_id: i64,
    friend_tier: &str,
    expires_at: Option<i64>,
    now: i64,
) -> Result<Option<Released>, DbError> {
    let held: Option<Held> = sqlx::query_as(
        "UPDATE referrals SET status = 'rewarded', rewarded_at = $1 \
         WHERE friend_id = $2 AND status = 'held' \
         RETURNING referrer_id, referrer_points, friend_points, referrer_campaign_id, \
                   friend_campaign_id",
    )
    .bind(now)
    .bind(friend_id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(rules) = held else {
        return Ok(None);
    };
    let referrer_id = rules.referrer_id;
    let mut statements = Vec::new();
    let source = format!("referral:{friend_id}");
    let entry = |member_id: i64, reason: &str, event: &str| Entry {
        member_id,
        kind: LedgerKind::Referral,
        reason: reason.into(),
        source_ref: Some(source.clone()),
        actor: "system:referral".into(),
        store_id: None,
        now,
        event: Some(LedgerEvent::of(event)),
    };
    if rules.friend_points > 0 {
        // The friend's refund debt (if any) is settled by their later credits.
        let (s, _) = ledger::plan_credit(
            &entry(
                friend_id,
                "好友邀请奖励 / Welcome reward for joining by invitation",
                "referral_welcome",
            ),
            rules.friend_points,
            expires_at,
            &Debt::default(),
        );
        statements.extend(s);
    }
    // The referrer is locked after the friend: referrals only point from older members
    // to newer ones, so two purchases never wait on each other in a circle.
    let referrer_tier = lock(tx, backend, referrer_id).await?;
    if rules.referrer_points > 0 {
        let owed = ledger::debt(tx, referrer_id).await?;
        let (s, _) = ledger::plan_credit(
            &entry(
                referrer_id,
                "邀请好友奖励 / Reward for inviting a friend",
                "referral_reward",
            ),
            rules.referrer_points,
            expires_at,
            &owed,
        );
        statements.extend(s);
    }
    let period = format!("referral:{friend_id}");
    for (campaign, member, tier) in [
        (rules.friend_campaign_id, friend_id, friend_tier.to_string()),
        (rules.referrer_campaign_id, referrer_id, referrer_tier),
    ] {
        if let Some(c) = campaign {
            if let Some(campaign) = claim_campaign(tx, c, now).await? {
                // Caps and windows of the campaign apply; a closed one gives nothing.
                coupons::grant_if_room(&mut *tx, &campaign, member, &tier, &period, now).await?;
            }
        }
    }
    Ok(Some(Released {
        friend_points: rules.friend_points.max(0),
        statements,
    }))
}

async fn lock(tx: &mut Tx, backend: Backend, member_id: i64) -> Result<String, DbError> {
    let sql = match backend {
        Backend::Sqlite => "SELECT tier_code FROM members WHERE id = $1",
        Backend::Postgres => "SELECT tier_code FROM members WHERE id = $1 FOR NO KEY UPDATE",
    };
    Ok(sqlx::query_scalar(sql)
        .bind(member_id)
        .fetch_one(&mut **tx)
        .await?)
}

/// An active claim campaign (welcome gifts and referral rewards are claim campaigns:
/// their caps and windows apply).
pub async fn claim_campaign(
    conn: &mut AnyConnection,
    id: i64,
    now: i64,
) -> Result<Option<Campaign>, DbError> {
    let sql = format!(
        "SELECT id, kind, name, total_cap FROM campaigns WHERE {} AND id = $2 AND kind = 'claim'",
        coupons::ACTIVE
    );
    Ok(sqlx::query_as(&sql)
        .bind(now)
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// The member's share page.
pub async fn view(db: &Db, member_id: i64, rules: &ReferralRules) -> Result<ReferralView, DbError> {
    let code = code_for(db, member_id).await?;
    let (invited, rewarded, pending): (i64, i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), \
                COALESCE(SUM(CASE WHEN status = 'rewarded' THEN 1 ELSE 0 END), 0), \
                COALESCE(SUM(CASE WHEN status = 'held' THEN 1 ELSE 0 END), 0) \
         FROM referrals WHERE referrer_id = $1",
    )
    .bind(member_id)
    .fetch_one(db.reader())
    .await?;
    let points_earned: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(points), 0) AS BIGINT) FROM points_ledger \
         WHERE member_id = $1 AND kind = 'referral' AND source_ref <> $2",
    )
    .bind(member_id)
    // The member's own reward for having been invited carries their own id.
    .bind(format!("referral:{member_id}"))
    .fetch_one(db.reader())
    .await?;
    Ok(ReferralView {
        enabled: rules.enabled,
        path: format!("/join?ref={code}"),
        code,
        reward: reward(rules),
        invited,
        rewarded,
        pending,
        points_earned,
    })
}

/// What each side gets, as the share and welcome pages show it.
pub fn reward(rules: &ReferralRules) -> ReferralReward {
    ReferralReward {
        referrer_points: rules.referrer_points,
        friend_points: rules.friend_points,
        referrer_coupons: rules.referrer_campaign_id.is_some(),
        friend_coupons: rules.friend_campaign_id.is_some(),
    }
}
