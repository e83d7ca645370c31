//! The router: API routes, the static app, and the middleware around both.

pub mod admin;
pub mod admin_campaigns;
pub mod admin_coupons;
pub mod admin_mall;
pub mod admin_points;
pub mod auth;
pub mod card_check;
pub mod checkout;
pub mod claims;
pub mod dev;
pub mod documents;
pub mod edge;
pub mod edge_config;
pub mod error;
pub mod extract;
pub mod idempotent;
pub mod imports;
pub mod inbox;
pub mod lookup;
pub mod mall;
pub mod mall_staff;
pub mod me;
pub mod openapi;
pub mod ops;
pub mod refunds;
pub mod reports;
pub mod signup;
pub mod signup_qr;
pub mod staff;
pub mod static_files;
pub mod tasks;
pub mod tier_admin;
pub mod tier_me;
pub mod views;
pub mod wallet;

use std::path::Path;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
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
    let mut routes = Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/privacy", get(documents::privacy))
        .route("/terms", get(documents::terms))
        .route("/metrics", get(ops::metrics))
        .route("/api/openapi.json", get(openapi::serve))
        .route("/api/v1/tiers", get(ops::tiers))
        .route("/api/v1/auth/otp", post(auth::send_otp))
        .route("/api/v1/auth/verify", post(auth::verify))
        .route("/api/v1/auth/logout", post(auth::logout))
        .route("/api/v1/signup/welcome", get(signup::welcome))
        .route("/api/v1/me/referral", get(signup::my_referral))
        .route("/api/v1/staff/signup-link", post(signup::personal_link))
        .route(
            "/api/v1/admin/signup-links",
            get(signup::list_links).post(signup::create_link),
        )
        .route(
            "/api/v1/admin/signup-links/{id}/revoke",
            post(signup::revoke_link),
        )
        .route(
            "/api/v1/admin/signup-links/{id}/qr.svg",
            get(signup_qr::svg),
        )
        .route(
            "/api/v1/admin/signup-links/{id}/qr.png",
            get(signup_qr::png_image),
        )
        .route("/api/v1/admin/reports/signups", get(reports::signups))
        .route("/api/v1/admin/reports/referrals", get(reports::referrals))
        .route(
            "/api/v1/admin/imports",
            post(imports::start).layer(DefaultBodyLimit::max(imports::IMPORT_BODY_LIMIT)),
        )
        .route("/api/v1/admin/imports/{id}", get(imports::progress))
        .route(
            "/api/v1/admin/signup-settings",
            get(signup::get_settings).put(signup::put_settings),
        )
        .route("/api/v1/me", get(me::me))
        .route("/api/v1/me/card-key", get(me::card_key_view))
        .route("/api/v1/me/card-code", get(me::card_code))
        .route("/api/v1/me/points/history", get(me::points_history))
        .route("/api/v1/staff/login", post(staff::staff_login))
        .route("/api/v1/staff/logout", post(staff::staff_logout))
        .route("/api/v1/staff/me", get(staff::staff_me))
        .route("/api/v1/staff/verify", post(staff::verify))
        .route(
            "/api/v1/staff/purchases",
            post(staff::record_purchase).get(refunds::purchases),
        )
        .route("/api/v1/admin/login", post(admin::admin_login))
        .route("/api/v1/admin/staff/{username}/unlock", post(staff::unlock))
        .route("/api/v1/staff/refunds", post(refunds::refund))
        .route("/api/v1/staff/members/lookup", post(lookup::lookup))
        .route(
            "/api/v1/admin/points-rules",
            get(admin_points::get_points_rules).put(admin_points::put_points_rules),
        )
        .route(
            "/api/v1/admin/members/{member_no}/points",
            post(admin_points::adjust_points),
        );
    routes = routes
        .route("/api/v1/mall/items", get(mall::items))
        .route("/api/v1/mall/items/{id}", get(mall::item))
        .route("/api/v1/mall/orders", post(mall::redeem))
        .route("/api/v1/me/mall/orders", get(mall::my_orders))
        .route("/api/v1/me/mall/orders/{code}", get(mall::my_order))
        .route("/api/v1/staff/mall/orders/{code}", get(mall_staff::lookup))
        .route(
            "/api/v1/staff/mall/orders/{code}/collect",
            post(mall_staff::collect),
        )
        .route(
            "/api/v1/staff/mall/orders/{code}/cancel",
            post(mall_staff::cancel),
        )
        .route(
            "/api/v1/admin/mall/items",
            get(admin_mall::list).post(admin_mall::create),
        )
        .route(
            "/api/v1/admin/mall/items/{id}",
            axum::routing::patch(admin_mall::update),
        );
    routes = routes
        .route(
            "/api/v1/admin/campaigns",
            get(admin_campaigns::list).post(admin_campaigns::create),
        )
        .route(
            "/api/v1/admin/campaigns/{id}",
            get(admin_campaigns::get).patch(admin_campaigns::update),
        )
        .route("/api/v1/admin/coupons/issue", post(admin_campaigns::issue))
        .route("/api/v1/claims/{token}", get(claims::view))
        .route("/api/v1/me/claims/{token}", post(claims::claim));
    routes = routes
        .route("/api/v1/me/coupons", get(wallet::list))
        .route("/api/v1/me/coupons/summary", get(wallet::summary))
        .route("/api/v1/me/coupons/seen", post(wallet::seen))
        .route("/api/v1/me/coupons/{id}", get(wallet::one))
        .route(
            "/api/v1/me/profile",
            get(wallet::get_profile).put(wallet::put_profile),
        )
        .route("/api/v1/staff/checkout/preview", post(checkout::preview));
    routes = routes
        .route(
            "/api/v1/admin/coupon-templates",
            get(admin_coupons::list).post(admin_coupons::create),
        )
        .route(
            "/api/v1/admin/coupon-templates/{id}",
            axum::routing::patch(admin_coupons::update),
        );
    routes = routes
        .route(
            "/api/v1/admin/tier-program",
            get(tier_admin::versions).post(tier_admin::create),
        )
        .route("/api/v1/me/tier", get(tier_me::status))
        .route("/api/v1/me/growth", get(tier_me::growth))
        .route("/api/v1/me/notifications", get(inbox::list))
        .route("/api/v1/me/notifications/read", post(inbox::read))
        .route("/api/v1/me/check-in", post(tasks::check_in));
    if state.dev {
        routes = routes.route("/api/v1/dev/outbox", get(dev::outbox));
    }
    routes
        .route("/api", any(not_found))
        .route("/api/{*rest}", any(not_found))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback_service(static_files::service(static_dir))
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
        .route("/metrics", get(ops::private_metrics))
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
        imports::IMPORT_TIMEOUT
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
            static_files::cache_control(&path, &response)
        };
        response.headers_mut().insert(header::CACHE_CONTROL, value);
    }
    response
}
