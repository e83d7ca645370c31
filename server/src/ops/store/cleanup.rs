//! Deletes what has outlived its use. Plain conditional deletes: harmless when several
//! instances run them at once.

use crate::db::{Db, DbError};

const DAY: i64 = 86_400;

#[derive(Debug, Default, Clone, Copy)]
pub struct Removed {
    pub sessions: u64,
    pub otp_codes: u64,
    pub idempotency_keys: u64,
    pub throttling_rows: u64,
    pub outbox: u64,
}

pub async fn run(db: &Db, now: i64) -> Result<Removed, DbError> {
    let mut removed = Removed::default();
    let mut tx = db.begin_write().await?;
    removed.sessions = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    removed.otp_codes = sqlx::query("DELETE FROM otp_codes WHERE expires_at <= $1")
        .bind(now - DAY)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    // Kept two days, comfortably over the promised 24 h.
    removed.idempotency_keys = sqlx::query("DELETE FROM idempotency_keys WHERE created_at <= $1")
        .bind(now - 2 * DAY)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    // Dev-only messages, with codes in clear: a day is plenty.
    removed.outbox = sqlx::query("DELETE FROM outbox WHERE created_at <= $1")
        .bind(now - DAY)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let mut throttling = 0;
    throttling += sqlx::query("DELETE FROM otp_sends WHERE at <= $1")
        .bind(now - 2 * DAY)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    throttling +=
        sqlx::query("DELETE FROM otp_phone_limits WHERE last_sent_at <= $1 AND window_start <= $1")
            .bind(now - 2 * DAY)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    throttling += sqlx::query("DELETE FROM login_attempts WHERE at <= $1")
        .bind(now - 2 * DAY)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    throttling += sqlx::query("DELETE FROM rate_counters WHERE window_start <= $1")
        .bind(now - 2 * DAY)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    removed.throttling_rows = throttling;
    tx.commit().await?;
    Ok(removed)
}
