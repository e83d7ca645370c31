//! Admin console entry. Same staff session cookie; only role admin may sign in here.

use axum::extract::State;
use axum::response::Response;
use member_core::dto::{ErrorBody, StaffLoginRequest, StaffView};

use crate::http::error::ApiResult;
use crate::http::extract::{ClientIp, Json};
use crate::state::AppState;

#[utoipa::path(post, path = "/api/v1/admin/login", tag = "admin",
    request_body = StaffLoginRequest,
    responses(
        (status = 200, description = "Signed in; sets the mc_staff cookie", body = StaffView),
        (status = 400, description = "invalid_input", body = ErrorBody),
        (status = 401, description = "bad_credentials", body = ErrorBody),
        (status = 403, description = "not an admin account", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    ))]
pub async fn admin_login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(req): Json<StaffLoginRequest>,
) -> ApiResult<Response> {
    crate::staff::http::login(&state, &ip, &req, true).await
}

/// The routes this file answers.
pub fn routes() -> axum::Router<crate::state::AppState> {
    use axum::routing::post;
    axum::Router::new().route("/api/v1/admin/login", post(admin_login))
}
