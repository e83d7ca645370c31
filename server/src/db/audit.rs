use sqlx::AnyConnection;

use crate::db::DbError;

pub const INSERT: &str =
    "INSERT INTO audit_log (actor, action, target, detail, at) VALUES ($1, $2, $3, $4, $5)";

/// Appends to the audit log inside the caller's transaction, so the entry exists exactly
/// when the change does.
pub async fn record(
    conn: &mut AnyConnection,
    actor: &str,
    action: &str,
    target: &str,
    detail: &str,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(INSERT)
        .bind(actor)
        .bind(action)
        .bind(target)
        .bind(detail)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}
