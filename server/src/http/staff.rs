//! Staff: sign-in, card verification and purchases.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use member_core::dto::{
    codes, ErrorBody, MemberSummary, PurchaseRequest, PurchaseResult, StaffLoginRequest,
    StaffVerifyRequest, StaffView,
};
use member_core::money::{AmountError, Cents};
use member_core::throttle::{self, Attempt};
use sha2::{Digest, Sha256};

use super::card_check::{self, Retry, Use};
use super::error::{wait_text, ApiError, ApiResult};
use super::extract::{
    clear_cookie, cookie, session_mac, set_cookie, ClientIp, IdempotencyKey, Json, StaffSession,
    STAFF_COOKIE, STAFF_SESSION_SECS,
};
use super::views::member_summary;
use crate::db::limits::{self, Window};
use crate::db::staff::login_keys;
use crate::db::{purchases, sessions, staff};

use crate::state::AppState;

const MAX_ORDER_REF_CHARS: usize = 64;

fn login_refused(retry_after_secs: i64) -> ApiError {
    ApiError::RateLimited {
        retry_after_secs,
        message: format!("登录失败次数过多，{}", wait_text(retry_after_secs)),
    }
}

/// Checks the password (with throttling) and opens a staff session. `admin_only` is the
/// admin console's door: right password but wrong role is 403.
pub(super) async fn login(
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

#[utoipa::path(post, path = "/api/v1/staff/verify", tag = "staff",
    request_body = StaffVerifyRequest,
    responses(
        (status = 200, description = "Who the code belongs to; nothing is changed", body = MemberSummary),
        (status = 400, description = "card_code_malformed", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 409, description = "card_code_used", body = ErrorBody),
        (status = 410, description = "card_code_expired", body = ErrorBody),
        (status = 422, description = "card_code_invalid", body = ErrorBody),
        (status = 429, description = "too_many_wrong_codes (Retry-After): this account's, its store's or this member number's budget of wrong codes is spent for now", body = ErrorBody),
    ))]
pub async fn verify(
    State(state): State<AppState>,
    session: StaffSession,
    Json(req): Json<StaffVerifyRequest>,
) -> ApiResult<Json<MemberSummary>> {
    let checked = card_check::check(&state, &session, &req.code, Use::Look).await?;
    let scanned = checked.scanned.ok_or(ApiError::Internal)?;
    Ok(Json(member_summary(&scanned.member, &scanned.tier_name)))
}

fn request_hash(req: &PurchaseRequest) -> String {
    let mut h = Sha256::new();
    h.update(req.code.as_bytes());
    h.update([0]);
    h.update(req.amount_cents.to_be_bytes());
    h.update(req.order_ref.as_bytes());
    h.update([0]);
    for id in req.coupon_ids.iter().flatten() {
        h.update(id.to_be_bytes());
    }
    // The look-up token is left out: a retry after a fresh look-up is the same purchase.
    if let Some(no) = &req.member_no {
        h.update([0xff]);
        h.update(no.trim().as_bytes());
    }
    crate::crypto::hex(&h.finalize())
}

#[utoipa::path(post, path = "/api/v1/staff/purchases", tag = "staff",
    request_body = PurchaseRequest,
    params(("Idempotency-Key" = String, Header, description = "1–100 visible ASCII characters; a retry with the same key and body gets the stored answer")),
    responses(
        (status = 200, description = "Recorded (or the stored answer of an earlier identical request)", body = PurchaseResult),
        (status = 400, description = "invalid_amount / card_code_malformed / idempotency_key_required / invalid_input / coupon_duplicate", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "store_required / lookup_required (member_no without this session's look-up token for the member)", body = ErrorBody),
        (status = 409, description = "card_code_used / duplicate_order / request_in_progress / coupon_used", body = ErrorBody),
        (status = 410, description = "card_code_expired / lookup_expired", body = ErrorBody),
        (status = 422, description = "card_code_invalid / idempotency_key_reused / coupon_not_found / coupon_expired / coupon_not_yet_valid / coupon_min_spend / coupon_wrong_store / coupons_not_stackable", body = ErrorBody),
        (status = 429, description = "too_many_wrong_codes (Retry-After), as in /staff/verify", body = ErrorBody),
    ))]
pub async fn record_purchase(
    State(state): State<AppState>,
    session: StaffSession,
    IdempotencyKey(key): IdempotencyKey,
    Json(req): Json<PurchaseRequest>,
) -> ApiResult<Response> {
    let coupon_ids: &[i64] = req.coupon_ids.as_deref().unwrap_or(&[]);
    crate::db::checkout::check_count(coupon_ids)?;
    let amount = Cents::purchase(req.amount_cents).map_err(|e| {
        ApiError::BadRequest(
            codes::INVALID_AMOUNT,
            match e {
                AmountError::NotPositive => "金额必须大于 0 / Amount must be positive".into(),
                AmountError::TooLarge => "金额过大 / Amount too large".into(),
            },
        )
    })?;
    let order_ref = req.order_ref.trim();
    if order_ref.is_empty()
        || order_ref.chars().count() > MAX_ORDER_REF_CHARS
        || order_ref.chars().any(char::is_control)
    {
        return Err(ApiError::invalid_input(format!(
            "订单号须为 1–{MAX_ORDER_REF_CHARS} 个字符 / order_ref must be 1–{MAX_ORDER_REF_CHARS} characters"
        )));
    }
    let who = super::lookup::identify(
        &state,
        &session,
        &req.code,
        req.member_no.as_deref(),
        req.lookup_token.as_deref(),
    )?;
    let (store_id, store_code) = session.store()?;
    let scope = format!("purchase:staff:{}", session.staff.id);
    let hash = request_hash(&req);
    // A look-up's token was checked by `identify`; a code takes the guessing limit. A
    // retry of a recorded purchase gets its answer even once the code has expired (and
    // it does not count as a wrong code).
    let held = match who.totp() {
        Some(_) => {
            let retry = Retry {
                scope: &scope,
                key: &key,
                request_hash: &hash,
            };
            let checked = card_check::check(&state, &session, &req.code, Use::Spend(retry)).await?;
            if let Some(r) = checked.replay {
                return Ok(super::idempotent::replayed(r.status, r.body));
            }
            checked.held
        }
        None => None,
    };
    let recorded = purchases::record(
        &state.db,
        held,
        purchases::NewPurchase {
            staff_id: session.staff.id,
            staff_username: &session.staff.username,
            store_id,
            store_code,
            member_no: who.member_no(),
            totp: who.totp(),
            identified_by: who.audit_text(),
            amount,
            order_ref,
            coupon_ids,
            idempotency_scope: &scope,
            idempotency_key: &key,
            request_hash: &hash,
            now: state.clock.now(),
        },
    )
    .await?;
    Ok(match recorded {
        purchases::Recorded::Fresh(result) => {
            state
                .metrics
                .purchases
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Json(result).into_response()
        }
        purchases::Recorded::Replayed { status, body } => super::idempotent::replayed(status, body),
    })
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
        .route("/api/v1/staff/verify", post(verify))
        .route(
            "/api/v1/staff/purchases",
            post(record_purchase).get(super::refunds::purchases),
        )
        .route("/api/v1/admin/staff/{username}/unlock", post(unlock))
}
