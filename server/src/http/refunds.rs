//! Purchase refunds at the till (store manager or admin of the purchase's store).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use member_core::dto::{codes, ErrorBody, RefundRequest, RefundResult};

use super::admin_points::reason;
use super::error::{ApiError, ApiResult};
use super::extract::{IdempotencyKey, Json, StaffSession};
use super::idempotent::{request_hash, respond};
use crate::db::refunds;
use crate::state::AppState;

const MAX_ORDER_REF_CHARS: usize = 64;

#[utoipa::path(post, path = "/api/v1/staff/refunds", tag = "staff",
    request_body = RefundRequest,
    params(("Idempotency-Key" = String, Header, description = "1–100 visible ASCII characters; a retry with the same key and body gets the stored answer")),
    responses(
        (status = 200, description = "Refunded: earned points taken back (not below zero; the rest is the shortfall) and growth (not below zero; the tier stays). Or the stored answer of an earlier identical request", body = RefundResult),
        (status = 400, description = "invalid_input / idempotency_key_required", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "forbidden (cashier) / store_required (account without a store)", body = ErrorBody),
        (status = 404, description = "not_found (no such order_ref in this store)", body = ErrorBody),
        (status = 409, description = "already_refunded / request_in_progress", body = ErrorBody),
        (status = 422, description = "idempotency_key_reused", body = ErrorBody),
    ))]
pub async fn refund(
    State(state): State<AppState>,
    session: StaffSession,
    key: Result<IdempotencyKey, ApiError>,
    body: Result<Json<RefundRequest>, ApiError>,
) -> ApiResult<Response> {
    if !matches!(session.staff.role.as_str(), "manager" | "admin") {
        return Err(ApiError::Forbidden(
            codes::FORBIDDEN,
            "退货需店长或管理员操作 / A refund needs a store manager or admin".into(),
        ));
    }
    // Order references are unique per store, so the store says which purchase is meant.
    let store_id = session.staff.store_id.ok_or_else(|| {
        ApiError::Forbidden(
            codes::STORE_REQUIRED,
            "该账号未绑定门店，不能办理退货 / This account has no store".into(),
        )
    })?;
    let IdempotencyKey(key) = key?;
    let Json(req) = body?;
    let order_ref = req.order_ref.trim();
    if order_ref.is_empty()
        || order_ref.chars().count() > MAX_ORDER_REF_CHARS
        || order_ref.chars().any(char::is_control)
    {
        return Err(ApiError::invalid_input(format!(
            "订单号须为 1–{MAX_ORDER_REF_CHARS} 个字符 / order_ref must be 1–{MAX_ORDER_REF_CHARS} characters"
        )));
    }
    let reason = reason(&req.reason)?;
    let scope = format!("refund:staff:{}", session.staff.id);
    let hash = request_hash(&[order_ref.as_bytes(), reason.as_bytes()]);
    let outcome = refunds::refund(
        &state.db,
        refunds::NewRefund {
            staff_username: &session.staff.username,
            store_id,
            order_ref,
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
