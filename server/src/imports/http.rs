//! Admin: legacy member import. The CSV is the request body; `?dry_run=true` answers
//! with the report at once, otherwise the import runs in the background and
//! `GET /admin/imports/{id}` reports its progress (from the database: any instance can).

use std::io::Write;

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use member_core::dto::{codes, ErrorBody, ImportJobView, ImportReport};
use serde::Deserialize;

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{AdminSession, Json, Path};
use crate::imports::store as import;
use crate::imports::store::{FileError, Source};
use crate::state::AppState;

/// A 100,000-row export is ~6 MB; this leaves room for long names and extra columns.
pub const IMPORT_BODY_LIMIT: usize = 32 * 1024 * 1024;
/// How long this route may take (upload and checking the whole file) instead of the
/// API's usual 10 s: a big file over a shop's uplink takes a while.
pub const IMPORT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);
const STALLED_SECS: i64 = 300;
const STOPPED: &str =
    "导入中断，请重新导入（已导入的会员不会重复）/ The import stopped: import the file \
                       again (members already imported are skipped)";

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ImportQuery {
    /// Check only: report what would be imported, write nothing.
    #[serde(default)]
    pub dry_run: bool,
}

fn is_csv(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("text/csv"))
}

pub fn file_error(e: &FileError) -> ApiError {
    ApiError::BadRequest(codes::INVALID_FILE, e.to_string())
}

#[utoipa::path(post, path = "/api/v1/admin/imports", tag = "admin",
    params(ImportQuery),
    request_body(content = String, content_type = "text/csv",
        description = "phone,name,tier,points,birthday,store,joined_at (only phone required; UTF-8 or GBK)"),
    responses((status = 200, description = "Dry run: the report", body = ImportReport),
              (status = 202, description = "Import started: poll GET /api/v1/admin/imports/{id}", body = ImportJobView),
              (status = 400, description = "invalid_file (no header, no phone column, empty)", body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody),
              (status = 415, description = "unsupported_media_type: the body is not text/csv", body = ErrorBody)))]
pub async fn start(
    State(state): State<AppState>,
    session: AdminSession,
    headers: HeaderMap,
    query: Result<Query<ImportQuery>, QueryRejection>,
    body: Body,
) -> ApiResult<(StatusCode, Json<ImportJobView>)> {
    // A cross-site form can post text/plain or form data without asking first; text/csv
    // it cannot, so the import only reads a body that says it is CSV.
    if !is_csv(&headers) {
        return Err(ApiError::UnsupportedMediaType(
            "需要 Content-Type: text/csv / Expected Content-Type: text/csv".into(),
        ));
    }
    let Query(q) = query.map_err(|e| ApiError::invalid_input(e.body_text()))?;
    let source = spool(body).await?;
    let now = state.clock.now();
    let plan = import::plan(&state.db, source, now)
        .await?
        .map_err(|e| file_error(&e))?;
    if q.dry_run {
        let report = plan.dry_run_report();
        drop(plan);
        crate::memory::release_freed();
        return Ok((
            StatusCode::OK,
            Json(ImportJobView {
                id: 0,
                status: "done".into(),
                rows: report.rows,
                processed: report.rows,
                report: Some(report),
                error: None,
            }),
        ));
    }
    let actor = format!("staff:{}", session.staff.username);
    let to_create = i64::try_from(plan.create.len()).unwrap_or(i64::MAX);
    let id = import::jobs::start_job(&state.db, to_create, &actor, now).await?;
    let db = state.db.clone();
    let clock = state.clock.clone();
    tokio::spawn(async move {
        let progress_db = db.clone();
        let progress_clock = clock.clone();
        let outcome = import::run(&db, &plan, &actor, now, |n| {
            let db = progress_db.clone();
            let at = progress_clock.now();
            async move {
                if let Err(e) = import::jobs::job_progress(&db, id, n, at).await {
                    tracing::warn!(error = %e, job = id, "import progress not recorded");
                }
            }
        })
        .await;
        let (report, error) = match outcome {
            Ok(done) => (
                Some(plan.report(false, done.imported, done.late_duplicates, done.points)),
                None,
            ),
            Err(e) => {
                tracing::error!(error = %e, job = id, "import failed");
                (None, Some(STOPPED.to_string()))
            }
        };
        if let Err(e) =
            import::jobs::finish_job(&db, id, report.as_ref(), error.as_deref(), clock.now()).await
        {
            tracing::error!(error = %e, job = id, "import result not recorded");
        }
        drop(plan);
        crate::memory::release_freed();
    });
    Ok((
        StatusCode::ACCEPTED,
        Json(ImportJobView {
            id,
            status: "running".into(),
            rows: to_create,
            processed: 0,
            report: None,
            error: None,
        }),
    ))
}

/// Writes the upload to an unnamed temporary file as it arrives (gone when dropped), so
/// memory stays flat whatever the file's size; more than `IMPORT_BODY_LIMIT` is a 413.
async fn spool(body: Body) -> ApiResult<Source> {
    use http_body_util::BodyExt;
    let mut file = tempfile::tempfile().map_err(|e| {
        tracing::error!(error = %e, "no temporary file for an import");
        ApiError::Internal
    })?;
    let mut body = body;
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| ApiError::invalid_input("the upload broke off"))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        total += data.len();
        if total > IMPORT_BODY_LIMIT {
            return Err(ApiError::PayloadTooLarge);
        }
        file.write_all(&data).map_err(|e| {
            tracing::error!(error = %e, "writing an import to its temporary file");
            ApiError::Internal
        })?;
    }
    Ok(Source::from_file(file))
}

#[utoipa::path(get, path = "/api/v1/admin/imports/{id}", tag = "admin",
    params(("id" = i64, Path)),
    responses((status = 200, body = ImportJobView), (status = 404, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn progress(
    State(state): State<AppState>,
    _admin: AdminSession,
    Path(id): Path<i64>,
) -> ApiResult<Json<ImportJobView>> {
    let job = import::jobs::job(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    // No progress for this long: the server running it stopped (a restart). What was
    // imported stays; importing the file again adds the rest.
    let stalled = job.status == "running" && state.clock.now() - job.updated_at > STALLED_SECS;
    let report = job
        .report
        .as_deref()
        .map(serde_json::from_str::<ImportReport>)
        .transpose()
        .map_err(|_| ApiError::Internal)?;
    Ok(Json(ImportJobView {
        id: job.id,
        status: if stalled { "failed".into() } else { job.status },
        rows: job.rows,
        processed: job.processed,
        report,
        error: if stalled {
            Some(STOPPED.into())
        } else {
            job.error
        },
    }))
}

/// The routes this file answers.
pub fn routes() -> axum::Router<crate::state::AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route(
            "/api/v1/admin/imports",
            post(start).layer(axum::extract::DefaultBodyLimit::max(IMPORT_BODY_LIMIT)),
        )
        .route("/api/v1/admin/imports/{id}", get(progress))
}
