//! The import job's row: started, its progress while rows are written, and its report
//! once done (what the console's progress bar polls).

use crate::db::{Db, DbError};
use member_core::dto::ImportReport;

/// Starts an import job (API imports run in the background; any instance can report
/// progress).
pub async fn start_job(db: &Db, rows: i64, actor: &str, now: i64) -> Result<i64, DbError> {
    let mut tx = db.begin_write().await?;
    let id = sqlx::query_scalar(
        "INSERT INTO import_jobs (status, rows, created_by, created_at, updated_at) \
         VALUES ('running', $1, $2, $3, $3) RETURNING id",
    )
    .bind(rows)
    .bind(actor)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn job_progress(db: &Db, id: i64, processed: i64, now: i64) -> Result<(), DbError> {
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE import_jobs SET processed = $1, updated_at = $2 WHERE id = $3")
        .bind(processed)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn finish_job(
    db: &Db,
    id: i64,
    report: Option<&ImportReport>,
    error: Option<&str>,
    now: i64,
) -> Result<(), DbError> {
    let body = report
        .map(serde_json::to_string)
        .transpose()
        .map_err(|_| DbError::Corrupt("import report"))?;
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "UPDATE import_jobs SET status = $1, report = $2, error = $3, finished_at = $4, \
                updated_at = $4, \
                processed = CASE WHEN $1 = 'done' THEN rows ELSE processed END WHERE id = $5",
    )
    .bind(if error.is_some() { "failed" } else { "done" })
    .bind(body)
    .bind(error)
    .bind(now)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
pub struct JobRow {
    pub id: i64,
    pub status: String,
    pub rows: i64,
    pub processed: i64,
    pub report: Option<String>,
    pub error: Option<String>,
    pub updated_at: i64,
}

pub async fn job(db: &Db, id: i64) -> Result<Option<JobRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, status, rows, processed, report, error, updated_at FROM import_jobs WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db.reader())
    .await?)
}

/// The report as the command line prints it.
pub fn summary(r: &ImportReport) -> String {
    let mut out = format!(
        "{}encoding: {}\nrows: {}\n{}: {}\nskipped as duplicates: {}\nrejected: {}\npoints credited: {}\n",
        if r.dry_run { "DRY RUN (nothing changed)\n" } else { "" },
        r.encoding,
        r.rows,
        if r.dry_run { "would import" } else { "imported" },
        r.imported,
        r.duplicates,
        r.rejected,
        r.points,
    );
    for p in &r.problems {
        out.push_str(&format!(
            "line {}: {} [{}] {}\n",
            p.line, p.column, p.code, p.message
        ));
    }
    out
}
