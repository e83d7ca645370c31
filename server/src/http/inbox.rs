//! The member's notifications inbox.

use axum::extract::State;
use member_core::dto::{ErrorBody, NotificationsPage, ReadNotificationsRequest, UnreadCount};

use super::error::{ApiError, ApiResult};
use super::extract::{Json, MemberSession};
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/me/notifications", tag = "member",
    params(("before" = Option<i64>, Query, description = "Messages older than this id")),
    responses((status = 200, body = NotificationsPage), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(_state): State<AppState>,
    _session: MemberSession,
) -> ApiResult<Json<NotificationsPage>> {
    Err(ApiError::NotFound)
}

#[utoipa::path(post, path = "/api/v1/me/notifications/read", tag = "member",
    request_body = ReadNotificationsRequest,
    responses((status = 200, body = UnreadCount), (status = 401, body = ErrorBody)))]
pub async fn read(
    State(_state): State<AppState>,
    _session: MemberSession,
    Json(_body): Json<ReadNotificationsRequest>,
) -> ApiResult<Json<UnreadCount>> {
    Err(ApiError::NotFound)
}
