//! Admin: the tier program's versions (list, and a new version from a date on). The
//! rules themselves are checked by `member_core::tier_program::validate` in the db layer.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use member_core::dto::{
    ErrorBody, NewTierProgramVersion, TierProgramVersionView, TierProgramVersions,
};

use crate::clock::rfc3339;
use crate::http::error::ApiResult;
use crate::http::extract::{AdminSession, Json};
use crate::mall::http::admin::{parse_opt_time, text};
use crate::state::AppState;
use crate::tiers::store::tier_program::{self, Version};

const NOTE_MAX_CHARS: usize = 200;

fn view(v: Version) -> TierProgramVersionView {
    TierProgramVersionView {
        id: v.id,
        effective_from: rfc3339(v.effective_from),
        note: v.note,
        created_by: v.created_by,
        created_at: rfc3339(v.created_at),
        program: v.program,
    }
}

#[utoipa::path(get, path = "/api/v1/admin/tier-program", tag = "admin",
    responses((status = 200, description = "Every version, newest start first, and the one in effect", body = TierProgramVersions),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn versions(
    State(state): State<AppState>,
    _admin: AdminSession,
) -> ApiResult<Json<TierProgramVersions>> {
    let now = state.clock.now();
    let current_id = tier_program::in_effect(&state.db, now).await?.id;
    let versions = tier_program::all(&state.db).await?;
    Ok(Json(TierProgramVersions {
        current_id,
        versions: versions.into_iter().map(view).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/admin/tier-program", tag = "admin",
    request_body = NewTierProgramVersion,
    responses((status = 201, description = "Stored; applies from effective_from", body = TierProgramVersionView),
              (status = 400, description = "invalid_program (the rule broken), invalid_input", body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    session: AdminSession,
    Json(body): Json<NewTierProgramVersion>,
) -> ApiResult<Response> {
    let now = state.clock.now();
    let effective_from =
        parse_opt_time("effective_from", body.effective_from.as_deref())?.unwrap_or(now);
    let note = if body.note.trim().is_empty() {
        String::new()
    } else {
        text("note", &body.note, 1, NOTE_MAX_CHARS)?
    };
    let actor = format!("admin:{}", session.staff.username);
    let version =
        tier_program::create(&state.db, &body.program, effective_from, &note, &actor, now).await?;
    Ok((StatusCode::CREATED, Json(view(version))).into_response())
}

/// The routes this file answers.
pub fn routes() -> axum::Router<crate::state::AppState> {
    use axum::routing::get;
    axum::Router::new().route("/api/v1/admin/tier-program", get(versions).post(create))
}
