//! One-time sign-in codes: sending under rate limits, verifying with a try budget.

use crate::db::limits::{self, Window};
use crate::db::{Db, DbError};
use crate::messages::store::outbox;

pub const TTL_SECS: i64 = 600;
pub const MAX_TRIES: i64 = 5;
pub const RESEND_SECS: i64 = 60;
pub const PER_DAY: i64 = 10;
/// The default per-address hourly limit: enough for a busy store behind one NAT address.
pub const PER_IP_PER_HOUR: i64 = 200;
const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;

pub struct Send<'a> {
    pub phone: &'a str,
    pub ip: &'a str,
    pub code: &'a str,
    pub code_hmac: &'a str,
    pub text: &'a str,
    pub now: i64,
    /// Sends allowed per address per hour (`Config::otp_sends_per_ip_hour`).
    pub per_ip_per_hour: i64,
    /// Dev mode: the message (with the code in clear) goes to the outbox table. Without
    /// dev nothing holds the code in clear; only `otp_codes` keeps its keyed hash.
    pub dev: bool,
}

/// Stores a new code and (dev only) queues the message, unless a limit says no (then
/// nothing is stored). The per-phone limits are one conditional upsert, which holds under
/// concurrency on both backends.
pub async fn send(db: &Db, s: Send<'_>) -> Result<(), DbError> {
    let mut tx = db.begin_write().await?;
    let by_ip = Window {
        secs: HOUR,
        max: s.per_ip_per_hour,
    };
    if let Err(retry_after_secs) =
        limits::claim(&mut tx, &format!("otp-ip:{}", s.ip), &by_ip, s.now).await?
    {
        return Err(DbError::RateLimited { retry_after_secs });
    }
    let claimed: Option<String> = sqlx::query_scalar(
        "INSERT INTO otp_phone_limits (phone, last_sent_at, window_start, window_count) \
         VALUES ($1, $2, $2, 1) \
         ON CONFLICT (phone) DO UPDATE SET \
           last_sent_at = excluded.last_sent_at, \
           window_start = CASE WHEN otp_phone_limits.window_start <= $3 \
                          THEN excluded.last_sent_at ELSE otp_phone_limits.window_start END, \
           window_count = CASE WHEN otp_phone_limits.window_start <= $3 \
                          THEN 1 ELSE otp_phone_limits.window_count + 1 END \
         WHERE otp_phone_limits.last_sent_at <= $4 \
           AND (otp_phone_limits.window_start <= $3 OR otp_phone_limits.window_count < $5) \
         RETURNING phone",
    )
    .bind(s.phone)
    .bind(s.now)
    .bind(s.now - DAY)
    .bind(s.now - RESEND_SECS)
    .bind(PER_DAY)
    .fetch_optional(&mut *tx)
    .await?;
    if claimed.is_none() {
        let (last, start, count): (i64, i64, i64) = sqlx::query_as(
            "SELECT last_sent_at, window_start, window_count FROM otp_phone_limits WHERE phone = $1",
        )
        .bind(s.phone)
        .fetch_one(&mut *tx)
        .await?;
        let retry = if count >= PER_DAY && start > s.now - DAY {
            start + DAY - s.now
        } else {
            last + RESEND_SECS - s.now
        };
        return Err(DbError::RateLimited {
            retry_after_secs: retry.max(1),
        });
    }
    sqlx::query("INSERT INTO otp_sends (phone, ip, at) VALUES ($1, $2, $3)")
        .bind(s.phone)
        .bind(s.ip)
        .bind(s.now)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO otp_codes (phone, code_hmac, expires_at, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(s.phone)
    .bind(s.code_hmac)
    .bind(s.now + TTL_SECS)
    .bind(s.now)
    .execute(&mut *tx)
    .await?;
    if s.dev {
        outbox::push(&mut tx, s.phone, s.text, s.code, s.now).await?;
    }
    tx.commit().await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct CodeRow {
    id: i64,
    code_hmac: String,
    expires_at: i64,
}

/// Checks `code_hmac` against the phone's newest unused code inside the caller's
/// transaction and returns that code's id. Every check spends one of the code's tries
/// first (an atomic increment), so parallel guesses get no extra tries. A wrong guess
/// commits its spent try itself and returns `OtpWrong` or `OtpLocked`.
pub async fn check(
    mut tx: crate::db::Tx,
    phone: &str,
    code_hmac: &str,
    now: i64,
) -> Result<(crate::db::Tx, i64), DbError> {
    let row: Option<CodeRow> = sqlx::query_as(
        "SELECT id, code_hmac, expires_at FROM otp_codes \
         WHERE phone = $1 AND consumed = 0 ORDER BY id DESC LIMIT 1",
    )
    .bind(phone)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Err(DbError::OtpExpired);
    };
    if row.expires_at <= now {
        return Err(DbError::OtpExpired);
    }
    let tries: Option<i64> = sqlx::query_scalar(
        "UPDATE otp_codes SET attempts = attempts + 1 WHERE id = $1 AND attempts < $2 \
         RETURNING attempts",
    )
    .bind(row.id)
    .bind(MAX_TRIES)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(tries) = tries else {
        return Err(DbError::OtpLocked);
    };
    if !crate::crypto::eq_ct(&row.code_hmac, code_hmac) {
        tx.commit().await?;
        return Err(if tries >= MAX_TRIES {
            DbError::OtpLocked
        } else {
            DbError::OtpWrong
        });
    }
    Ok((tx, row.id))
}

/// Marks a checked code used; a code can sign in once.
pub async fn consume(tx: &mut crate::db::Tx, code_id: i64) -> Result<(), DbError> {
    let used = sqlx::query("UPDATE otp_codes SET consumed = 1 WHERE id = $1 AND consumed = 0")
        .bind(code_id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if used == 0 {
        return Err(DbError::OtpExpired);
    }
    Ok(())
}
