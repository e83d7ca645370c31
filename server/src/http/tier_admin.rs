//! Admin: the tier program's versions (list, create a new one from a date on).

use axum::extract::State;
use member_core::dto::{
    ErrorBody, NewTierProgramVersion, TierProgramVersionView, TierProgramVersions,
};

use super::error::{ApiError, ApiResult};
use super::extract::{Json, StaffSession};
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/admin/tier-program", tag = "admin",
    responses((status = 200, body = TierProgramVersions),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn versions(
    State(_state): State<AppState>,
    _session: StaffSession,
) -> ApiResult<Json<TierProgramVersions>> {
    Err(ApiError::NotFound)
}

#[utoipa::path(post, path = "/api/v1/admin/tier-program", tag = "admin",
    request_body = NewTierProgramVersion,
    responses((status = 201, body = TierProgramVersionView),
              (status = 400, description = "invalid_program, invalid_input", body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create(
    State(_state): State<AppState>,
    _session: StaffSession,
    Json(_body): Json<NewTierProgramVersion>,
) -> ApiResult<Json<TierProgramVersionView>> {
    Err(ApiError::NotFound)
}
