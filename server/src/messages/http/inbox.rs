//! The member's notifications inbox. Messages are the member's own: another member's ids
//! are not found for reading and match nothing when marking read.

use axum::extract::{Query, State};
use member_core::dto::{
    ErrorBody, NotificationView, NotificationsPage, ReadNotificationsRequest, UnreadCount,
};

use crate::clock::rfc3339;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Json, MemberSession};
use crate::messages::store::notifications;
use crate::state::AppState;
use crate::tiers::http::me::{before_of, PageQuery};
use crate::tiers::store::tier_status;

const PAGE: i64 = 20;
const MAX_IDS: usize = 200;

#[utoipa::path(get, path = "/api/v1/me/notifications", tag = "member",
    params(PageQuery),
    responses((status = 200, description = "Newest first, 20 per page", body = NotificationsPage),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    session: MemberSession,
    query: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<NotificationsPage>> {
    let before = before_of(query)?;
    let rows =
        tier_status::notifications_page(&state.db, session.member_id, before, PAGE + 1).await?;
    let more = rows.len() > PAGE as usize;
    let items: Vec<NotificationView> = rows
        .into_iter()
        .take(PAGE as usize)
        .map(|r| NotificationView {
            id: r.id,
            kind: r.kind,
            // A row written by an older version that no longer parses shows without facts
            // rather than failing the whole inbox.
            data: serde_json::from_str(&r.data).unwrap_or_else(|_| notifications::data()),
            at: rfc3339(r.created_at),
            read: r.read_at.is_some(),
        })
        .collect();
    Ok(Json(NotificationsPage {
        unread: tier_status::unread(&state.db, session.member_id).await?,
        next_before: if more {
            items.last().map(|i| i.id)
        } else {
            None
        },
        items,
    }))
}

#[utoipa::path(post, path = "/api/v1/me/notifications/read", tag = "member",
    request_body = ReadNotificationsRequest,
    responses((status = 200, description = "What is still unread", body = UnreadCount),
              (status = 400, description = "More than 200 ids", body = ErrorBody),
              (status = 401, body = ErrorBody)))]
pub async fn read(
    State(state): State<AppState>,
    session: MemberSession,
    Json(body): Json<ReadNotificationsRequest>,
) -> ApiResult<Json<UnreadCount>> {
    if body.ids.as_ref().is_some_and(|ids| ids.len() > MAX_IDS) {
        return Err(ApiError::invalid_input(format!(
            "一次最多 {MAX_IDS} 条 / At most {MAX_IDS} ids at once"
        )));
    }
    let unread = tier_status::mark_read(
        &state.db,
        session.member_id,
        body.ids.as_deref(),
        state.clock.now(),
    )
    .await?;
    Ok(Json(UnreadCount { unread }))
}

/// The routes this file answers.
pub fn routes() -> axum::Router<crate::state::AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/api/v1/me/notifications", get(list))
        .route("/api/v1/me/notifications/read", post(read))
}
