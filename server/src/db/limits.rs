//! Fixed-window rate counters. A claim is one conditional upsert, so it holds under
//! parallel requests on SQLite and Postgres and across several server instances.

use sqlx::AnyConnection;

use super::{Db, DbError};

pub struct Window {
    pub secs: i64,
    pub max: i64,
}

/// Takes one unit of `key`'s budget, or says how many seconds until the window resets.
pub async fn claim(
    conn: &mut AnyConnection,
    key: &str,
    window: &Window,
    now: i64,
) -> Result<Result<(), i64>, DbError> {
    let claimed: Option<i64> = sqlx::query_scalar(
        "INSERT INTO rate_counters (counter_key, window_start, count) VALUES ($1, $2, 1) \
         ON CONFLICT (counter_key) DO UPDATE SET \
           window_start = CASE WHEN rate_counters.window_start <= $3 \
                          THEN excluded.window_start ELSE rate_counters.window_start END, \
           count = CASE WHEN rate_counters.window_start <= $3 \
                   THEN 1 ELSE rate_counters.count + 1 END \
         WHERE rate_counters.window_start <= $3 OR rate_counters.count < $4 \
         RETURNING count",
    )
    .bind(key)
    .bind(now)
    .bind(now - window.secs)
    .bind(window.max)
    .fetch_optional(&mut *conn)
    .await?;
    if claimed.is_some() {
        return Ok(Ok(()));
    }
    let start: Option<i64> =
        sqlx::query_scalar("SELECT window_start FROM rate_counters WHERE counter_key = $1")
            .bind(key)
            .fetch_optional(conn)
            .await?;
    Ok(Err(start
        .map_or(window.secs, |s| s + window.secs - now)
        .max(1)))
}

/// Gives back a unit taken by `claim` (e.g. the password was right after all).
pub async fn release(db: &Db, keys: &[&str]) -> Result<(), DbError> {
    let mut tx = db.begin_write().await?;
    for key in keys {
        sqlx::query(
            "UPDATE rate_counters SET count = count - 1 WHERE counter_key = $1 AND count > 0",
        )
        .bind(*key)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Claims every key or none (all in one transaction).
pub async fn claim_all(
    db: &Db,
    claims: &[(&str, &Window)],
    now: i64,
) -> Result<Result<(), i64>, DbError> {
    let mut tx = db.begin_write().await?;
    for (key, window) in claims {
        if let Err(retry) = claim(&mut tx, key, window, now).await? {
            return Ok(Err(retry));
        }
    }
    tx.commit().await?;
    Ok(Ok(()))
}
