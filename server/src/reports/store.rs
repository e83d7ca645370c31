//! Sign-up reports: sign-ups per store / channel / staff / day with the share that made
//! their first purchase on their sign-up day, and the referral funnel. Days are local
//! (Asia/Shanghai, UTC+8): `(t + 28800) / 86400` is the local day number on both
//! backends (integer division).

use member_core::dto::ReferralFunnel;

use crate::db::{Db, DbError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    Store,
    Channel,
    Staff,
    Day,
}

impl By {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "store" => Some(Self::Store),
            "channel" => Some(Self::Channel),
            "staff" => Some(Self::Staff),
            "day" => Some(Self::Day),
            _ => None,
        }
    }
}

const FIRST_PURCHASES: &str =
    "(SELECT member_id, MIN(created_at) AS first_at FROM purchases GROUP BY member_id)";

/// (key, label, sign-ups, first purchase on the sign-up day); imported members are not
/// sign-ups. `from`..`to` are unix bounds (to exclusive).
pub async fn signups(
    db: &Db,
    by: By,
    from: i64,
    to: i64,
) -> Result<Vec<(String, String, i64, i64)>, DbError> {
    let (key, label) = match by {
        By::Store => ("COALESCE(s.code, '')", "COALESCE(s.name, '')"),
        By::Channel => (
            "COALESCE(m.signup_channel, '')",
            "COALESCE(m.signup_channel, '')",
        ),
        By::Staff => ("COALESCE(u.username, '')", "COALESCE(u.display_name, '')"),
        By::Day => (
            "CAST((m.created_at + 28800) / 86400 AS TEXT)",
            "CAST((m.created_at + 28800) / 86400 AS TEXT)",
        ),
    };
    let sql = format!(
        "SELECT {key} AS k, {label} AS l, COUNT(*) AS signups, \
                COALESCE(SUM(CASE WHEN f.first_at IS NOT NULL \
                     AND (f.first_at + 28800) / 86400 = (m.created_at + 28800) / 86400 \
                     THEN 1 ELSE 0 END), 0) AS same_day \
         FROM members m \
         LEFT JOIN {FIRST_PURCHASES} f ON f.member_id = m.id \
         LEFT JOIN stores s ON s.id = m.signup_store_id \
         LEFT JOIN staff_users u ON u.id = m.signup_staff_id \
         WHERE m.created_at >= $1 AND m.created_at < $2 \
           AND COALESCE(m.signup_channel, '') <> 'import' \
         GROUP BY {key}, {label} ORDER BY COUNT(*) DESC, {key}"
    );
    Ok(sqlx::query_as(&sql)
        .bind(from)
        .bind(to)
        .fetch_all(db.reader())
        .await?)
}

pub async fn referral_funnel(
    db: &Db,
    from: i64,
    to: i64,
) -> Result<(i64, i64, i64, i64, i64, i64), DbError> {
    let sql = format!(
        "SELECT COUNT(DISTINCT r.referrer_id), COUNT(*), \
                COALESCE(SUM(CASE WHEN f.first_at IS NOT NULL THEN 1 ELSE 0 END), 0), \
                COALESCE(SUM(CASE WHEN r.status = 'rewarded' THEN 1 ELSE 0 END), 0), \
                COALESCE(SUM(CASE WHEN r.status = 'held' THEN 1 ELSE 0 END), 0), \
                COALESCE(SUM(CASE WHEN r.status = 'capped' THEN 1 ELSE 0 END), 0) \
         FROM referrals r LEFT JOIN {FIRST_PURCHASES} f ON f.member_id = r.friend_id \
         WHERE r.created_at >= $1 AND r.created_at < $2"
    );
    Ok(sqlx::query_as(&sql)
        .bind(from)
        .bind(to)
        .fetch_one(db.reader())
        .await?)
}

pub fn funnel(from: String, to: String, f: (i64, i64, i64, i64, i64, i64)) -> ReferralFunnel {
    ReferralFunnel {
        from,
        to,
        referrers: f.0,
        signed_up: f.1,
        first_purchase: f.2,
        rewarded: f.3,
        held: f.4,
        capped: f.5,
    }
}
