//! The member's coupon wallet. Every query is keyed by the session's member id: another
//! member's coupon id is simply not found.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use member_core::dto::{CouponCounts, CouponView, ErrorBody};
use serde::Deserialize;

use crate::coupons::store::wallet::{self, Tab};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Json, MemberSession, Path};
use crate::state::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct CouponsQuery {
    /// `usable` (usable now or later), `used` or `expired`; absent = all.
    status: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/me/coupons", tag = "member",
    params(CouponsQuery),
    responses(
        (status = 200, description = "Usable: soonest expiry first; used: newest first; expired: latest first; at most 200", body = [CouponView]),
        (status = 400, description = "invalid_input", body = ErrorBody),
        (status = 401, body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    session: MemberSession,
    query: Result<Query<CouponsQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Vec<CouponView>>> {
    let Query(query) = query.map_err(|e| ApiError::invalid_input(e.body_text()))?;
    let tab = match query.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(Tab::parse(s).ok_or_else(|| {
            ApiError::invalid_input(
                "status 须为 usable、used 或 expired / status must be usable, used or expired",
            )
        })?),
    };
    Ok(Json(
        wallet::list(&state.db, session.member_id, tab, state.clock.now()).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/me/coupons/summary", tag = "member",
    responses((status = 200, description = "The wallet tabs' counts", body = CouponCounts),
              (status = 401, body = ErrorBody)))]
pub async fn summary(
    State(state): State<AppState>,
    session: MemberSession,
) -> ApiResult<Json<CouponCounts>> {
    Ok(Json(
        wallet::counts(&state.db, session.member_id, state.clock.now()).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/me/coupons/{id}", tag = "member",
    params(("id" = i64, Path, description = "Coupon id")),
    responses((status = 200, body = CouponView),
              (status = 401, body = ErrorBody),
              (status = 404, description = "Not this member's coupon", body = ErrorBody)))]
pub async fn one(
    State(state): State<AppState>,
    session: MemberSession,
    Path(id): Path<i64>,
) -> ApiResult<Json<CouponView>> {
    wallet::one(&state.db, session.member_id, id, state.clock.now())
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound)
}

#[utoipa::path(post, path = "/api/v1/me/coupons/seen", tag = "member",
    responses((status = 204, description = "Every coupon in the wallet is marked seen (the \"新\" badges go)"),
              (status = 401, body = ErrorBody)))]
pub async fn seen(State(state): State<AppState>, session: MemberSession) -> ApiResult<StatusCode> {
    wallet::mark_seen(&state.db, session.member_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The routes this file answers.
pub fn routes() -> axum::Router<crate::state::AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/api/v1/me/coupons", get(list))
        .route("/api/v1/me/coupons/summary", get(summary))
        .route("/api/v1/me/coupons/seen", post(seen))
        .route("/api/v1/me/coupons/{id}", get(one))
}
