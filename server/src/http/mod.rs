//! The router: every feature's routes, the static app, and the middleware around both;
//! and what all routes share (errors, extractors, the edge guard, idempotent replies).

pub mod edge;
pub mod edge_config;
pub mod error;
pub mod extract;
pub mod idempotent;

use std::path::Path;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use self::error::ApiError;
use crate::state::AppState;

pub const BODY_LIMIT: usize = 64 * 1024;
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

pub fn router(state: AppState, static_dir: &Path) -> Router {
    // Each feature owns its routes (its `routes()`); paths never overlap.
    let mut routes = Router::new()
        .merge(crate::ops::routes())
        .merge(crate::auth::routes())
        .merge(crate::staff::routes())
        .merge(crate::members::routes())
        .merge(crate::till::routes())
        .merge(crate::points::routes())
        .merge(crate::mall::routes())
        .merge(crate::coupons::routes())
        .merge(crate::campaigns::routes())
        .merge(crate::tiers::routes())
        .merge(crate::signup::routes())
        .merge(crate::imports::routes())
        .merge(crate::reports::routes())
        .merge(crate::messages::routes());
    if state.dev {
        routes = routes.merge(crate::messages::http::dev::routes());
    }
    routes
        .route("/api", any(not_found))
        .route("/api/{*rest}", any(not_found))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback_service(crate::ops::http::static_files::service(static_dir))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(timeout))
        // Not below 1 KiB: a small JSON answer gains a few bytes and costs a brotli
        // encoder (hundreds of KB of tables set up) per response.
        .layer(
            CompressionLayer::new()
                .br(true)
                .gzip(true)
                .compress_when(
                    SizeAbove::new(1024)
                        .and(NotForContentType::GRPC)
                        .and(NotForContentType::IMAGES)
                        .and(NotForContentType::SSE),
                ),
        )
        .layer(middleware::from_fn_with_state(state.clone(), edge::guard))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// The `METRICS_BIND` listener: `/metrics` and nothing else.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(crate::ops::http::ops::private_metrics))
        .fallback(not_found)
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// A request that takes longer than this gets a JSON 503 and its work is dropped
/// (an open transaction rolls back with it).
async fn timeout(req: Request, next: Next) -> Response {
    let limit = if req.uri().path() == "/api/v1/admin/imports" {
        crate::imports::http::IMPORT_TIMEOUT
    } else {
        REQUEST_TIMEOUT
    };
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout.into_response(),
    }
}

/// Counts responses for /metrics and sets caching: API answers are never stored by
/// caches (they carry personal data and card keys); static files per `static_files`.
async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let group = crate::metrics::group_of(&path);
    let mut response = next.run(req).await;
    state.metrics.count(group, response.status().as_u16());
    if !response.headers().contains_key(header::CACHE_CONTROL) {
        let value = if path.starts_with("/api") || path == "/healthz" || path == "/metrics" {
            HeaderValue::from_static("no-store")
        } else {
            crate::ops::http::static_files::cache_control(&path, &response)
        };
        response.headers_mut().insert(header::CACHE_CONTROL, value);
    }
    response
}
