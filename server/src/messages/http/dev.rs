//! Routed only with `--dev`.

use axum::extract::{Query, State};
use member_core::dto::OutboxMessage;
use member_core::phone::Phone;
use serde::Deserialize;

use crate::clock::rfc3339;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Json;
use crate::messages::store::outbox;
use crate::state::AppState;

const LIMIT: i64 = 200;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct OutboxQuery {
    /// Only messages to this phone (any spelling `Phone::parse` accepts).
    to: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/dev/outbox", tag = "dev",
    params(OutboxQuery),
    responses((status = 200, description = "Messages that would have been sent, newest last (at most 200)", body = [OutboxMessage])))]
pub async fn outbox(
    State(state): State<AppState>,
    query: Result<Query<OutboxQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Vec<OutboxMessage>>> {
    let Query(query) = query.map_err(|e| ApiError::invalid_input(e.body_text()))?;
    let to = match query.to.as_deref() {
        Some(t) => Some(
            Phone::parse(t)
                .map_err(|_| ApiError::invalid_input("invalid phone"))?
                .as_e164()
                .to_string(),
        ),
        None => None,
    };
    let rows = outbox::recent(&state.db, to.as_deref(), LIMIT).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| OutboxMessage {
                to: r.to_phone,
                text: r.text,
                code: r.code,
                at: rfc3339(r.created_at),
            })
            .collect(),
    ))
}

/// The routes this file answers (only with `--dev`).
pub fn routes() -> axum::Router<crate::state::AppState> {
    axum::Router::new().route("/api/v1/dev/outbox", axum::routing::get(outbox))
}
