//! Staff accounts: sign-in (with its back-off), sign-out, who is signed in, and a
//! manager lifting a colleague's wait.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use member_core::dto::{codes, ErrorBody, StaffLoginRequest, StaffView};
use member_core::throttle::{self, Attempt};

use crate::auth::store::sessions;
use crate::db::limits::{self, Window};
use crate::http::error::{wait_text, ApiError, ApiResult};
use crate::http::extract::{
    clear_cookie, cookie, session_mac, set_cookie, ClientIp, Json, StaffSession, STAFF_COOKIE,
    STAFF_SESSION_SECS,
};
use crate::staff::store as staff;
use crate::staff::store::login_keys;
use crate::state::AppState;

fn login_refused(retry_after_secs: i64) -> ApiError {
    ApiError::RateLimited {
        retry_after_secs,
        message: format!("登录失败次数过多，{}", wait_text(retry_after_secs)),
    }
}

/// Checks the password (with throttling) and opens a staff session. `admin_only` is the
/// admin console's door: right password but wrong role is 403.
pub(crate) async fn login(
    state: &AppState,
    ip: &str,
    req: &StaffLoginRequest,
    admin_only: bool,
) -> ApiResult<Response> {
    let username = req.username.trim();
    if username.is_empty()
        || username.len() > 64
        || req.password.is_empty()
        || req.password.len() > 256
    {
        return Err(ApiError::invalid_input(
            "请输入用户名和密码 / Enter username and password",
        ));
    }
    // Postgres refuses NUL in text (a 500 otherwise); no username has control characters.
    if username.chars().any(char::is_control) {
        return Err(ApiError::invalid_input(
            "用户名含有无效字符 / The username contains invalid characters",
        ));
    }
    let now = state.clock.now();
    // Failures count per (account, client address) and per account, never as a lock:
    // five wrong passwords from anywhere must not keep the real cashier out. A client
    // gets a few free tries on an account, then waits longer after every failure; the
    // account as a whole is only slowed down. Each check counts as a failure until the
    // password turns out right, so parallel guesses get no more checks than serial ones.
    let pair_key = login_keys::pair(username, ip);
    let account_key = login_keys::account(username);
    let client_key = login_keys::client(ip);
    let by_client: Window = throttle::LOGIN_CLIENT_BUDGET.into();
    let by_account: Window = throttle::LOGIN_ACCOUNT_BUDGET.into();
    if let Err(refused) = limits::claim_all(&state.db, &[(&client_key, &by_client)], now).await? {
        return Err(login_refused(refused.retry_after_secs));
    }
    if let Attempt::Wait(secs) =
        limits::backoff(&state.db, &pair_key, now, throttle::login_attempt).await?
    {
        limits::release(&state.db, &[&client_key]).await?;
        return Err(login_refused(secs));
    }
    let recent = limits::count(&state.db, &account_key, &by_account, now).await?;
    let delay = throttle::login_account_delay_ms(recent);
    if delay > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    let account = staff::find_for_login(&state.db, username).await?;
    let hash = account.as_ref().map_or_else(
        || crate::crypto::decoy_hash().to_string(),
        |a| a.password_hash.clone(),
    );
    let password = req.password.clone();
    // At most `PASSWORD_CHECKS_AT_ONCE` argon2 checks run at once; the rest queue.
    let ok = crate::crypto::run_gated(&state.password_checks, move || {
        crate::crypto::verify_password(&password, &hash)
    })
    .await
    .ok_or(ApiError::Internal)?;
    let account = account.filter(|a| ok && a.active == 1);
    let Some(account) = account else {
        staff::record_failure(&state.db, username, ip, now).await?;
        limits::bump(&state.db, &account_key, &by_account, now).await?;
        return Err(ApiError::BadCredentials);
    };
    limits::clear(&state.db, &pair_key).await?;
    limits::release(&state.db, &[&client_key]).await?;
    if admin_only && account.role != "admin" {
        return Err(ApiError::Forbidden(
            codes::FORBIDDEN,
            "需要管理员账号 / An admin account is required".into(),
        ));
    }
    let token = crate::crypto::session_token();
    staff::open_session(
        &state.db,
        staff::NewSession {
            staff_id: account.id,
            username,
            ip,
            session_hmac: &session_mac(state, &token),
            expires_at: now + STAFF_SESSION_SECS,
            now,
        },
    )
    .await?;
    let view = staff::by_id(&state.db, account.id)
        .await?
        .ok_or(ApiError::Internal)?
        .view();
    let mut response = Json(view).into_response();
    if let Some(v) = set_cookie(STAFF_COOKIE, &token, STAFF_SESSION_SECS) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

#[utoipa::path(post, path = "/api/v1/staff/login", tag = "staff",
    request_body = StaffLoginRequest,
    responses(
        (status = 200, description = "Signed in; sets the mc_staff cookie", body = StaffView),
        (status = 400, description = "invalid_input", body = ErrorBody),
        (status = 401, description = "bad_credentials", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    ))]
pub async fn staff_login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(req): Json<StaffLoginRequest>,
) -> ApiResult<Response> {
    login(&state, &ip, &req, false).await
}

#[utoipa::path(post, path = "/api/v1/staff/logout", tag = "staff",
    responses((status = 204, description = "Signed out; clears the mc_staff cookie")))]
pub async fn staff_logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    if let Some(token) = cookie(&headers, STAFF_COOKIE) {
        sessions::delete(
            &state.db,
            &session_mac(&state, token),
            sessions::Kind::Staff,
        )
        .await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Some(v) = clear_cookie(STAFF_COOKIE) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

#[utoipa::path(get, path = "/api/v1/staff/me", tag = "staff",
    responses((status = 200, body = StaffView), (status = 401, body = ErrorBody)))]
pub async fn staff_me(session: StaffSession) -> Json<StaffView> {
    Json(session.staff.view())
}

#[utoipa::path(post, path = "/api/v1/admin/staff/{username}/unlock", tag = "staff",
    params(("username" = String, Path, description = "The staff account whose failed sign-ins to forget")),
    responses(
        (status = 204, description = "Every client's failed sign-ins to the account are forgotten (audited)"),
        (status = 401, body = ErrorBody),
        (status = 403, description = "forbidden: not a manager or admin, or a manager of another store", body = ErrorBody),
        (status = 404, description = "no such account", body = ErrorBody),
    ))]
pub async fn unlock(
    State(state): State<AppState>,
    session: StaffSession,
    axum::extract::Path(username): axum::extract::Path<String>,
) -> ApiResult<StatusCode> {
    let me = &session.staff;
    let may_manage = |store_id: Option<i64>| match me.role.as_str() {
        "admin" => true,
        // A store manager unlocks their own store's staff.
        "manager" => me.store_id.is_some() && me.store_id == store_id,
        _ => false,
    };
    if !may_manage(me.store_id) {
        return Err(forbidden_unlock());
    }
    let target = staff::by_username(&state.db, &username)
        .await?
        .ok_or(ApiError::NotFound)?;
    if !may_manage(target.store_id) {
        return Err(forbidden_unlock());
    }
    staff::unlock(
        &state.db,
        &username,
        &format!("staff:{}", me.username),
        state.clock.now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn forbidden_unlock() -> ApiError {
    ApiError::Forbidden(
        codes::FORBIDDEN,
        "需要该门店的店长或管理员 / A manager of the account's store or an admin is required"
            .into(),
    )
}

/// The routes this file answers.
pub fn routes() -> axum::Router<crate::state::AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/api/v1/staff/login", post(staff_login))
        .route("/api/v1/staff/logout", post(staff_logout))
        .route("/api/v1/staff/me", get(staff_me))
        .route("/api/v1/admin/staff/{username}/unlock", post(unlock))
}
