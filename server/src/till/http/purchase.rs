//! The till's card check and purchase: verify a card code (nothing changes), record a
//! purchase by code or by a look-up's member number, idempotently.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use member_core::dto::{
    codes, ErrorBody, MemberSummary, PurchaseRequest, PurchaseResult, StaffVerifyRequest,
};
use member_core::money::{AmountError, Cents};
use sha2::{Digest, Sha256};

use super::card_check::{self, Retry, Use};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{IdempotencyKey, Json, StaffSession};
use crate::members::views::member_summary;
use crate::state::AppState;
use crate::till::store::purchases;

const MAX_ORDER_REF_CHARS: usize = 64;

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
    crate::till::store::checkout::check_count(coupon_ids)?;
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
    let who = crate::till::http::lookup::identify(
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
                return Ok(crate::http::idempotent::replayed(r.status, r.body));
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
        purchases::Recorded::Replayed { status, body } => {
            crate::http::idempotent::replayed(status, body)
        }
    })
}

/// The routes this file answers.
pub fn routes() -> axum::Router<crate::state::AppState> {
    use axum::routing::post;
    axum::Router::new()
        .route("/api/v1/staff/verify", post(verify))
        .route(
            "/api/v1/staff/purchases",
            post(record_purchase).get(super::refunds::purchases),
        )
}
