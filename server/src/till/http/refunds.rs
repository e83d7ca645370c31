//! Purchase refunds at the till (store manager or admin of the purchase's store), in
//! full or in parts, and the store's purchases to find the one to refund.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use member_core::dto::{
    codes, ErrorBody, RefundRequest, RefundResult, StaffPurchasePage, StaffPurchaseView,
};
use member_core::money::MAX_PURCHASE_CENTS;
use serde::Deserialize;

use crate::clock::rfc3339;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{IdempotencyKey, Json, StaffSession};
use crate::http::idempotent::{request_hash, respond};
use crate::members::views::masked_phone;
use crate::points::http::reason;
use crate::state::AppState;
use crate::till::store::refunds;

const MAX_ORDER_REF_CHARS: usize = 64;
const PAGE: i64 = 20;

/// Refunds and their look-ups are for a store's manager (or an admin attached to it).
fn manager_store(session: &StaffSession) -> ApiResult<i64> {
    if !matches!(session.staff.role.as_str(), "manager" | "admin") {
        return Err(ApiError::Forbidden(
            codes::FORBIDDEN,
            "退货需店长或管理员操作 / A refund needs a store manager or admin".into(),
        ));
    }
    // Order references are unique per store, so the store says which purchase is meant.
    session.staff.store_id.ok_or_else(|| {
        ApiError::Forbidden(
            codes::STORE_REQUIRED,
            "该账号未绑定门店，不能办理退货 / This account has no store".into(),
        )
    })
}

fn order_ref_of(raw: &str) -> ApiResult<&str> {
    let order_ref = raw.trim();
    if order_ref.is_empty()
        || order_ref.chars().count() > MAX_ORDER_REF_CHARS
        || order_ref.chars().any(char::is_control)
    {
        return Err(ApiError::invalid_input(format!(
            "订单号须为 1–{MAX_ORDER_REF_CHARS} 个字符 / order_ref must be 1–{MAX_ORDER_REF_CHARS} characters"
        )));
    }
    Ok(order_ref)
}

#[utoipa::path(post, path = "/api/v1/staff/refunds", tag = "staff",
    request_body = RefundRequest,
    params(("Idempotency-Key" = String, Header, description = "1–100 visible ASCII characters; a retry with the same key and body gets the stored answer")),
    responses(
        (status = 200, description = "Refunded, in full (no `amount_cents`: all that is left) or in part: its share of the earned points taken back (in proportion to the amount; not below zero, the rest is the shortfall) and of the growth (not below zero; the tier stays). Coupons come back only with a full refund on the day of purchase. Or the stored answer of an earlier identical request", body = RefundResult),
        (status = 400, description = "invalid_input / invalid_amount / idempotency_key_required", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "forbidden (cashier) / store_required (account without a store)", body = ErrorBody),
        (status = 404, description = "not_found (no such order_ref in this store)", body = ErrorBody),
        (status = 409, description = "already_refunded / request_in_progress", body = ErrorBody),
        (status = 422, description = "refund_too_large (more than is left to refund) / idempotency_key_reused", body = ErrorBody),
    ))]
pub async fn refund(
    State(state): State<AppState>,
    session: StaffSession,
    key: Result<IdempotencyKey, ApiError>,
    body: Result<Json<RefundRequest>, ApiError>,
) -> ApiResult<Response> {
    let store_id = manager_store(&session)?;
    let IdempotencyKey(key) = key?;
    let Json(req) = body?;
    let order_ref = order_ref_of(&req.order_ref)?;
    if let Some(cents) = req.amount_cents {
        if !(1..=MAX_PURCHASE_CENTS).contains(&cents) {
            return Err(ApiError::BadRequest(
                codes::INVALID_AMOUNT,
                "退款金额须大于 0 / The refund amount must be positive".into(),
            ));
        }
    }
    let reason = reason(&req.reason)?;
    let scope = format!("refund:staff:{}", session.staff.id);
    // A full refund (no amount) hashes as before, so keys stored earlier still match.
    let amount = req.amount_cents.map(|c| c.to_string()).unwrap_or_default();
    let mut parts: Vec<&[u8]> = vec![order_ref.as_bytes(), reason.as_bytes()];
    if req.amount_cents.is_some() {
        parts.push(amount.as_bytes());
    }
    let hash = request_hash(&parts);
    let outcome = refunds::refund(
        &state.db,
        refunds::NewRefund {
            staff_username: &session.staff.username,
            store_id,
            order_ref,
            reason,
            amount: req.amount_cents,
            idempotency_scope: &scope,
            idempotency_key: &key,
            request_hash: &hash,
            now: state.clock.now(),
        },
    )
    .await?;
    Ok(respond(outcome, StatusCode::OK))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PurchasesQuery {
    /// One purchase by its order reference.
    order_ref: Option<String>,
    /// Purchases older than this (`next` of the previous page).
    before: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/staff/purchases", tag = "staff",
    params(PurchasesQuery),
    responses(
        (status = 200, description = "The store's purchases, newest first, 20 per page (or the one with `order_ref`): what was paid and refunded so far", body = StaffPurchasePage),
        (status = 400, description = "invalid_input", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "forbidden (cashier) / store_required", body = ErrorBody),
    ))]
pub async fn purchases(
    State(state): State<AppState>,
    session: StaffSession,
    query: Result<Query<PurchasesQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<StaffPurchasePage>> {
    let store_id = manager_store(&session)?;
    let Query(q) = query.map_err(|e| ApiError::invalid_input(e.body_text()))?;
    let order_ref = q.order_ref.as_deref().map(order_ref_of).transpose()?;
    let rows = refunds::store_purchases(&state.db, store_id, order_ref, q.before, PAGE + 1).await?;
    let more = order_ref.is_none() && rows.len() > PAGE as usize;
    let items: Vec<(i64, StaffPurchaseView)> = rows
        .into_iter()
        .take(PAGE as usize)
        .map(|r| {
            let paid = r.amount_cents - r.discount_cents;
            (
                r.id,
                StaffPurchaseView {
                    order_ref: r.order_ref,
                    member_no: r.member_no,
                    member_name: r.member_name,
                    phone_masked: masked_phone(&r.phone),
                    amount_cents: r.amount_cents,
                    discount_cents: r.discount_cents,
                    paid_cents: paid,
                    refunded_cents: r.refunded_cents,
                    points_earned: r.points_earned,
                    points_clawed_back: r.refund_points.unwrap_or(0),
                    created_at: rfc3339(r.created_at),
                    fully_refunded: r.refunded_at.is_some(),
                },
            )
        })
        .collect();
    let next = if more {
        items.last().map(|(id, _)| *id)
    } else {
        None
    };
    Ok(Json(StaffPurchasePage {
        items: items.into_iter().map(|(_, v)| v).collect(),
        next,
    }))
}

/// The routes this file answers.
pub fn routes() -> axum::Router<crate::state::AppState> {
    use axum::routing::post;
    axum::Router::new().route("/api/v1/staff/refunds", post(refund))
}
