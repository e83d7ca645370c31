//! Sessions are stored by the HMAC of their token, so a copy of the database does not
//! hand out live cookies.

use sqlx::AnyConnection;

use crate::db::{Db, DbError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Member,
    Staff,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Member => "member",
            Kind::Staff => "staff",
        }
    }
}

pub async fn create(
    conn: &mut AnyConnection,
    token_hmac: &str,
    kind: Kind,
    subject_id: i64,
    expires_at: i64,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO sessions (token_hmac, kind, subject_id, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hmac)
    .bind(kind.as_str())
    .bind(subject_id)
    .bind(expires_at)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn create_alone(
    db: &Db,
    token_hmac: &str,
    kind: Kind,
    subject_id: i64,
    expires_at: i64,
    now: i64,
) -> Result<(), DbError> {
    let mut tx = db.begin_write().await?;
    create(&mut tx, token_hmac, kind, subject_id, expires_at, now).await?;
    tx.commit().await?;
    Ok(())
}

/// The subject of a live session of this kind.
pub async fn subject(
    db: &Db,
    token_hmac: &str,
    kind: Kind,
    now: i64,
) -> Result<Option<i64>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT subject_id FROM sessions WHERE token_hmac = $1 AND kind = $2 AND expires_at > $3",
    )
    .bind(token_hmac)
    .bind(kind.as_str())
    .bind(now)
    .fetch_optional(db.reader())
    .await?)
}

pub async fn delete(db: &Db, token_hmac: &str, kind: Kind) -> Result<(), DbError> {
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM sessions WHERE token_hmac = $1 AND kind = $2")
        .bind(token_hmac)
        .bind(kind.as_str())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
