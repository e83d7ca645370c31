//! Job leases: with several instances on one database, one of them runs a leased job at
//! a time. A holder renews its lease while it works; a crashed holder's lease runs out
//! and another instance takes over. The work itself stays idempotent, so a lease that
//! runs out mid-run costs time, never correctness.

use crate::db::{Db, DbError};

/// Takes or renews the lease `name` for `holder` until `until`; false when another
/// holder's lease is still running at `now`.
pub async fn acquire(
    db: &Db,
    name: &str,
    holder: &str,
    now: i64,
    until: i64,
) -> Result<bool, DbError> {
    let mut tx = db.begin_write().await?;
    let changed = sqlx::query(
        "INSERT INTO job_leases (name, holder, until) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET holder = $2, until = $3 \
         WHERE job_leases.until <= $4 OR job_leases.holder = $2",
    )
    .bind(name)
    .bind(holder)
    .bind(until)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(changed == 1)
}

/// Gives the lease up (only if still held by `holder`).
pub async fn release(db: &Db, name: &str, holder: &str) -> Result<(), DbError> {
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM job_leases WHERE name = $1 AND holder = $2")
        .bind(name)
        .bind(holder)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
