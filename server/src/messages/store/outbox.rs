//! Messages that would go out by SMS. Written (with the code in clear) only in `--dev`,
//! where `GET /api/v1/dev/outbox` lists them; cleanup drops rows after 24 h.

use sqlx::AnyConnection;

use crate::db::{Db, DbError};

#[derive(sqlx::FromRow)]
pub struct OutboxRow {
    pub to_phone: String,
    pub text: String,
    pub code: String,
    pub created_at: i64,
}

pub async fn push(
    conn: &mut AnyConnection,
    to: &str,
    text: &str,
    code: &str,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query("INSERT INTO outbox (to_phone, text, code, created_at) VALUES ($1, $2, $3, $4)")
        .bind(to)
        .bind(text)
        .bind(code)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// The newest `limit` messages (optionally to one phone), oldest first.
pub async fn recent(db: &Db, to: Option<&str>, limit: i64) -> Result<Vec<OutboxRow>, DbError> {
    let mut rows: Vec<OutboxRow> = match to {
        Some(to) => {
            sqlx::query_as(
                "SELECT to_phone, text, code, created_at FROM outbox WHERE to_phone = $1 \
                 ORDER BY id DESC LIMIT $2",
            )
            .bind(to)
            .bind(limit)
            .fetch_all(db.reader())
            .await?
        }
        None => {
            sqlx::query_as(
                "SELECT to_phone, text, code, created_at FROM outbox ORDER BY id DESC LIMIT $1",
            )
            .bind(limit)
            .fetch_all(db.reader())
            .await?
        }
    };
    rows.reverse();
    Ok(rows)
}
