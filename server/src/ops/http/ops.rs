//! Health, metrics and the public tier list.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use member_core::dto::{ErrorBody, Health, TierView};

use crate::http::edge::metrics_authorized;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Json;
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
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain"),
              (status = 401, description = "METRICS_TOKEN is set and the bearer token is missing or wrong", body = ErrorBody),
              (status = 404, description = "not served here: no METRICS_TOKEN, or METRICS_BIND is set", body = ErrorBody)))]
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    // The main address is public: without a token the counters stay private (their own
    // address, METRICS_BIND, or nowhere).
    match &state.edge.metrics_token {
        Some(token) if !state.edge.metrics_elsewhere => authorized_metrics(&state, token, &headers),
        _ => ApiError::NotFound.into_response(),
    }
}

/// `/metrics` on `METRICS_BIND`: reachable only where that address is, and still behind
/// the token when one is set.
pub async fn private_metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match &state.edge.metrics_token {
        Some(token) => authorized_metrics(&state, token, &headers),
        None => render(&state),
    }
}

fn authorized_metrics(state: &AppState, token: &str, headers: &HeaderMap) -> Response {
    if metrics_authorized(token, headers) {
        render(state)
    } else {
        let mut response = ApiError::Unauthenticated.into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"metrics\""),
        );
        response
    }
}

fn render(state: &AppState) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

#[utoipa::path(get, path = "/api/v1/tiers", tag = "program",
    responses((status = 200, description = "The program's tiers, lowest first", body = [TierView]),
              (status = 500, body = ErrorBody)))]
pub async fn tiers(State(state): State<AppState>) -> ApiResult<Json<Vec<TierView>>> {
    Ok(Json(
        crate::tiers::store::tiers::all(&state.db, state.clock.now())
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

/// The routes this file answers.
pub fn routes() -> axum::Router<crate::state::AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/v1/tiers", get(tiers))
}
