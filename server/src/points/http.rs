//! Admin console: the points expiry rule and manual points adjustments.

use crate::http::extract::Path;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use member_core::dto::{ErrorBody, PointsAdjustRequest, PointsAdjustResult, PointsRules};
use member_core::points::{ExpiryRule, RuleError, MAX_DAYS, MAX_MONTHS, MAX_YEARS};

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{AdminSession, IdempotencyKey, Json};
use crate::http::idempotent::{request_hash, respond};
use crate::points::store::{adjust, ledger};
use crate::state::AppState;

/// One adjustment moves at most this many points either way (a typo guard).
pub const MAX_ADJUST_POINTS: i64 = 1_000_000;
pub const MAX_REASON_CHARS: usize = 200;

/// A reason as it is stored and shown: trimmed, 1–200 characters, no control characters.
pub fn reason(raw: &str) -> ApiResult<&str> {
    let r = raw.trim();
    let n = r.chars().count();
    if n == 0 || n > MAX_REASON_CHARS || r.chars().any(char::is_control) {
        return Err(ApiError::invalid_input(format!(
            "请填写原因（1–{MAX_REASON_CHARS} 个字）/ reason must be 1–{MAX_REASON_CHARS} characters"
        )));
    }
    Ok(r)
}

fn rules_view(rule: ExpiryRule) -> PointsRules {
    PointsRules {
        expiry: rule.kind().to_string(),
        n: rule.n(),
    }
}

#[utoipa::path(get, path = "/api/v1/admin/points-rules", tag = "admin",
    responses(
        (status = 200, description = "The expiry rule for newly earned points", body = PointsRules),
        (status = 401, body = ErrorBody),
        (status = 403, description = "forbidden (not an admin)", body = ErrorBody),
    ))]
pub async fn get_points_rules(
    State(state): State<AppState>,
    _admin: AdminSession,
) -> ApiResult<Json<PointsRules>> {
    Ok(Json(rules_view(ledger::expiry_rule(&state.db).await?)))
}

#[utoipa::path(put, path = "/api/v1/admin/points-rules", tag = "admin",
    request_body = PointsRules,
    responses(
        (status = 200, description = "Saved; applies to points earned from now on (audit-logged)", body = PointsRules),
        (status = 400, description = "invalid_input", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "forbidden (not an admin)", body = ErrorBody),
    ))]
pub async fn put_points_rules(
    State(state): State<AppState>,
    session: AdminSession,
    body: Result<Json<PointsRules>, ApiError>,
) -> ApiResult<Json<PointsRules>> {
    let Json(req) = body?;
    let rule = ExpiryRule::from_parts(req.expiry.trim(), req.n).map_err(|e| {
        ApiError::invalid_input(match e {
            RuleError::UnknownKind => {
                "expiry 须为 never、days、month_end 或 year_end / expiry must be never, days, \
                 month_end or year_end"
                    .to_string()
            }
            RuleError::OutOfRange => format!(
                "n 超出范围（days 1–{MAX_DAYS}，month_end 0–{MAX_MONTHS}，year_end 0–{MAX_YEARS}）/ \
                 n out of range (days 1–{MAX_DAYS}, month_end 0–{MAX_MONTHS}, year_end 0–{MAX_YEARS})"
            ),
        })
    })?;
    adjust::set_expiry_rule(&state.db, rule, &session.staff.username, state.clock.now()).await?;
    Ok(Json(rules_view(rule)))
}

#[utoipa::path(post, path = "/api/v1/admin/members/{member_no}/points", tag = "admin",
    request_body = PointsAdjustRequest,
    params(
        ("member_no" = String, Path, description = "The member's number"),
        ("Idempotency-Key" = String, Header, description = "1–100 visible ASCII characters; a retry with the same key and body gets the stored answer"),
    ),
    responses(
        (status = 200, description = "Adjusted (audit-logged), or the stored answer of an earlier identical request", body = PointsAdjustResult),
        (status = 400, description = "invalid_input / idempotency_key_required", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "forbidden (not an admin)", body = ErrorBody),
        (status = 404, description = "not_found (no such member)", body = ErrorBody),
        (status = 409, description = "request_in_progress", body = ErrorBody),
        (status = 422, description = "insufficient_points / idempotency_key_reused", body = ErrorBody),
    ))]
pub async fn adjust_points(
    State(state): State<AppState>,
    session: AdminSession,
    Path(member_no): Path<String>,
    key: Result<IdempotencyKey, ApiError>,
    body: Result<Json<PointsAdjustRequest>, ApiError>,
) -> ApiResult<Response> {
    let IdempotencyKey(key) = key?;
    let Json(req) = body?;
    if req.points == 0 || req.points.unsigned_abs() > MAX_ADJUST_POINTS.unsigned_abs() {
        return Err(ApiError::invalid_input(format!(
            "积分调整须为非零且不超过 ±{MAX_ADJUST_POINTS} / points must be non-zero and within ±{MAX_ADJUST_POINTS}"
        )));
    }
    let reason = reason(&req.reason)?;
    // Anything that can't be a member number is an unknown member (and never reaches
    // the database: Postgres refuses NUL in text).
    if !member_core::card_code::is_member_no(&member_no) {
        return Err(ApiError::NotFound);
    }
    let scope = format!("adjust:staff:{}", session.staff.id);
    let hash = request_hash(&[
        member_no.as_bytes(),
        &req.points.to_be_bytes(),
        reason.as_bytes(),
    ]);
    let outcome = adjust::adjust(
        &state.db,
        adjust::Adjustment {
            staff_username: &session.staff.username,
            staff_store_id: session.staff.store_id,
            member_no: &member_no,
            points: req.points,
            reason,
            idempotency_scope: &scope,
            idempotency_key: &key,
            request_hash: &hash,
            now: state.clock.now(),
        },
    )
    .await?;
    Ok(respond(outcome, StatusCode::OK))
}

/// The routes this file answers.
pub fn routes() -> axum::Router<crate::state::AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route(
            "/api/v1/admin/points-rules",
            get(get_points_rules).put(put_points_rules),
        )
        .route(
            "/api/v1/admin/members/{member_no}/points",
            post(adjust_points),
        )
}
