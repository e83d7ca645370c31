//! Growth tasks the member does in the app (daily check-in).

use axum::extract::State;
use member_core::dto::{CheckInResult, ErrorBody};

use super::error::{ApiError, ApiResult};
use super::extract::{Json, MemberSession};
use crate::state::AppState;

#[utoipa::path(post, path = "/api/v1/me/check-in", tag = "member",
    responses((status = 200, body = CheckInResult), (status = 401, body = ErrorBody)))]
pub async fn check_in(
    State(_state): State<AppState>,
    _session: MemberSession,
) -> ApiResult<Json<CheckInResult>> {
    Err(ApiError::NotFound)
}
