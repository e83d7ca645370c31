//! The member's tier: status with every tier side by side, and the growth history.

use axum::extract::State;
use member_core::dto::{ErrorBody, GrowthHistoryPage, TierStatusView};

use super::error::{ApiError, ApiResult};
use super::extract::{Json, MemberSession};
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/me/tier", tag = "member",
    responses((status = 200, body = TierStatusView), (status = 401, body = ErrorBody)))]
pub async fn status(
    State(_state): State<AppState>,
    _session: MemberSession,
) -> ApiResult<Json<TierStatusView>> {
    Err(ApiError::NotFound)
}

#[utoipa::path(get, path = "/api/v1/me/growth", tag = "member",
    params(("before" = Option<i64>, Query, description = "Entries older than this id")),
    responses((status = 200, body = GrowthHistoryPage), (status = 401, body = ErrorBody)))]
pub async fn growth(
    State(_state): State<AppState>,
    _session: MemberSession,
) -> ApiResult<Json<GrowthHistoryPage>> {
    Err(ApiError::NotFound)
}
