//! Reads behind the member's tier screens: period sums for the keep line, the growth
//! history, the inbox and the tasks done. Every query is keyed by the session's member.

use member_core::tier_program::Standing;

use crate::db::{Db, DbError};

/// Growth and spend the member earned for evaluation in `[start, end)`.
pub async fn period_sums(
    db: &Db,
    member_id: i64,
    start: i64,
    end: i64,
) -> Result<Standing, DbError> {
    let (growth, spend_cents): (i64, i64) =
        sqlx::query_as(crate::tiers::store::growth::PERIOD_SUMS)
            .bind(member_id)
            .bind(start)
            .bind(end)
            .fetch_one(db.reader())
            .await?;
    Ok(Standing {
        growth,
        spend_cents,
    })
}

/// The member's latest tier change: its kind (`upgraded`, `kept`, `downgraded`) and time.
pub async fn last_change(db: &Db, member_id: i64) -> Result<Option<(String, i64)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT kind, at FROM tier_changes WHERE member_id = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(member_id)
    .fetch_optional(db.reader())
    .await?)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    pub kind: String,
    pub growth: i64,
    pub note: String,
    pub at: i64,
    pub counts_until: Option<i64>,
}

/// The newest `limit` growth events older than `before` (id).
pub async fn growth_page(
    db: &Db,
    member_id: i64,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<EventRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, kind, growth, note, at, counts_until FROM growth_events \
         WHERE member_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
    )
    .bind(member_id)
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(db.reader())
    .await?)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NotificationRow {
    pub id: i64,
    pub kind: String,
    pub data: String,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

pub async fn notifications_page(
    db: &Db,
    member_id: i64,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<NotificationRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, kind, data, created_at, read_at FROM notifications \
         WHERE member_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
    )
    .bind(member_id)
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(db.reader())
    .await?)
}

pub async fn unread(db: &Db, member_id: i64) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM notifications WHERE member_id = $1 AND read_at IS NULL",
    )
    .bind(member_id)
    .fetch_one(db.reader())
    .await?)
}

/// Marks the member's own unread messages read: those in `ids`, or all. Ids of other
/// members' messages match nothing. Returns what is still unread.
pub async fn mark_read(
    db: &Db,
    member_id: i64,
    ids: Option<&[i64]>,
    now: i64,
) -> Result<i64, DbError> {
    let mut tx = db.begin_write().await?;
    match ids {
        None => {
            sqlx::query(
                "UPDATE notifications SET read_at = $1 WHERE member_id = $2 AND read_at IS NULL",
            )
            .bind(now)
            .bind(member_id)
            .execute(&mut *tx)
            .await?;
        }
        Some(ids) => {
            for id in ids {
                sqlx::query(
                    "UPDATE notifications SET read_at = $1 \
                     WHERE id = $2 AND member_id = $3 AND read_at IS NULL",
                )
                .bind(now)
                .bind(id)
                .bind(member_id)
                .execute(&mut *tx)
                .await?;
            }
        }
    }
    let left: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM notifications WHERE member_id = $1 AND read_at IS NULL",
    )
    .bind(member_id)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(left)
}

/// The tasks the member has done for good or on `today` (`YYYY-MM-DD`).
pub async fn tasks_done(db: &Db, member_id: i64, today: &str) -> Result<Vec<String>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT task FROM growth_tasks WHERE member_id = $1 AND (period = '' OR period = $2)",
    )
    .bind(member_id)
    .bind(today)
    .fetch_all(db.reader())
    .await?)
}
