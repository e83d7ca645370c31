//! Health, metrics and the public tier list.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use member_core::dto::{ErrorBody, Health, TierView};

use super::error::ApiResult;
use super::extract::Json;
use crate::db;
use crate::state::AppState;

#[utoipa::path(get, path = "/healthz", tag = "ops",
    responses((status = 200, body = Health), (status = 503, description = "database unreachable", body = Health)))]
pub async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    match state.db.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(Health {
                status: "ok".into(),
            }),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "health check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status: "unavailable".into(),
                }),
            )
        }
    }
}

#[utoipa::path(get, path = "/metrics", tag = "ops",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}

#[utoipa::path(get, path = "/api/v1/tiers", tag = "program",
    responses((status = 200, description = "The program's tiers, lowest first", body = [TierView]),
              (status = 500, body = ErrorBody)))]
pub async fn tiers(State(state): State<AppState>) -> ApiResult<Json<Vec<TierView>>> {
    Ok(Json(
        db::tiers::all(&state.db, state.clock.now())
            .await?
            .into_iter()
            .map(|t| TierView {
                code: t.code,
                name: t.name,
                growth_threshold: t.growth_threshold,
                points_per_yuan_pct: t.points_per_yuan_pct,
            })
            .collect(),
    ))
}
