//! Mall orders at the counter: look an order up by its code, hand it over (collect),
//! cancel it or refund it.

use crate::http::extract::Path;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use member_core::dto::{codes, CancelOrderRequest, CancelOrderResult, ErrorBody, StaffMallOrder};
use member_core::mall::normalize_order_code;

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{IdempotencyKey, Json, StaffSession};
use crate::http::idempotent;
use crate::mall::store::mall_orders::close::{self, Cancel, Collect};
use crate::mall::store::mall_orders::{self, OrderRow};
use crate::members::views::masked_phone;
use crate::state::AppState;

const MAX_REASON_CHARS: usize = 200;

fn code(raw: &str) -> ApiResult<String> {
    normalize_order_code(raw).ok_or_else(|| {
        ApiError::invalid_input(
            "兑换码应为 10 位字母数字 / An order code has 10 letters and digits",
        )
    })
}

fn staff_view(row: &OrderRow) -> StaffMallOrder {
    StaffMallOrder {
        order: row.view(),
        member_no: row.member_no.clone(),
        member_name: row.member_name.clone(),
        phone_masked: masked_phone(&row.phone),
    }
}

#[utoipa::path(get, path = "/api/v1/staff/mall/orders/{code}", tag = "staff",
    params(("code" = String, Path, description = "Order code (case, spaces and dashes ignored)")),
    responses(
        (status = 200, body = StaffMallOrder),
        (status = 400, description = "invalid_input (not an order code)", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn lookup(
    State(state): State<AppState>,
    _session: StaffSession,
    Path(raw): Path<String>,
) -> ApiResult<Json<StaffMallOrder>> {
    let code = code(&raw)?;
    let row = mall_orders::by_code(&state.db, &code)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(staff_view(&row)))
}

#[utoipa::path(post, path = "/api/v1/staff/mall/orders/{code}/collect", tag = "staff",
    params(("code" = String, Path, description = "Order code")),
    responses(
        (status = 200, description = "Handed over at the staff member's store", body = StaffMallOrder),
        (status = 400, description = "invalid_input", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "store_required", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "order_closed (already collected, cancelled or refunded)",
         body = ErrorBody),
    ))]
pub async fn collect(
    State(state): State<AppState>,
    session: StaffSession,
    Path(raw): Path<String>,
) -> ApiResult<Json<StaffMallOrder>> {
    let code = code(&raw)?;
    // The hand-over is recorded against a store, like a purchase.
    let store_id = session.staff.store_id.ok_or_else(|| {
        ApiError::Forbidden(
            codes::STORE_REQUIRED,
            "该账号未绑定门店，不能核销兑换 / This account has no store".into(),
        )
    })?;
    let row = close::collect(
        &state.db,
        &Collect {
            code: &code,
            staff_id: session.staff.id,
            staff_username: &session.staff.username,
            store_id,
            now: state.clock.now(),
        },
    )
    .await?;
    Ok(Json(staff_view(&row)))
}

#[utoipa::path(post, path = "/api/v1/staff/mall/orders/{code}/cancel", tag = "staff",
    request_body = CancelOrderRequest,
    params(("code" = String, Path, description = "Order code"),
           ("Idempotency-Key" = String, Header, description = "1–100 visible ASCII characters")),
    responses(
        (status = 200, description = "Cancelled (pending) or refunded (collected); points back \
                                      in their batches, stock and the member's count back; a \
                                      coupon item's unused coupons voided",
         body = CancelOrderResult),
        (status = 400, description = "invalid_input / idempotency_key_required", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "forbidden (refunding a collected order needs a manager; \
                                      a coupon item's order, any store's manager)",
         body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "order_closed / request_in_progress / coupon_used (a \
                                      coupon of the order was used: nothing is refunded)",
         body = ErrorBody),
        (status = 422, description = "idempotency_key_reused", body = ErrorBody),
    ))]
pub async fn cancel(
    State(state): State<AppState>,
    session: StaffSession,
    Path(raw): Path<String>,
    IdempotencyKey(key): IdempotencyKey,
    Json(req): Json<CancelOrderRequest>,
) -> ApiResult<Response> {
    let code = code(&raw)?;
    let reason = req.reason.trim();
    if reason.is_empty()
        || reason.chars().count() > MAX_REASON_CHARS
        || reason.chars().any(char::is_control)
    {
        return Err(ApiError::invalid_input(format!(
            "请填写取消原因（1–{MAX_REASON_CHARS} 个字）/ \
             A reason of 1–{MAX_REASON_CHARS} characters is required"
        )));
    }
    let staff = &session.staff;
    let scope = format!("mall-cancel:staff:{}", staff.id);
    let hash = idempotent::request_hash(&[code.as_bytes(), reason.as_bytes()]);
    let outcome = close::cancel(
        &state.db,
        &Cancel {
            code: &code,
            reason,
            staff_id: staff.id,
            staff_username: &staff.username,
            store_id: staff.store_id,
            may_refund: matches!(staff.role.as_str(), "manager" | "admin"),
            any_store: staff.role == "admin",
            idempotency_scope: &scope,
            idempotency_key: &key,
            request_hash: &hash,
            now: state.clock.now(),
        },
    )
    .await?;
    Ok(idempotent::respond(outcome, StatusCode::OK))
}

/// The routes this file answers.
pub fn routes() -> axum::Router<crate::state::AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/api/v1/staff/mall/orders/{code}", get(lookup))
        .route("/api/v1/staff/mall/orders/{code}/collect", post(collect))
        .route("/api/v1/staff/mall/orders/{code}/cancel", post(cancel))
}
