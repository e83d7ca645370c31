//! The till's checkout preview: who the card belongs to, their coupons and what the
//! basket costs with the ones ticked. Nothing changes (the card code is not spent), so
//! the cashier can tick and untick freely before recording the purchase.

use axum::extract::State;
use member_core::coupons::{self, Till};
use member_core::dto::{
    codes, CheckoutCoupon, CheckoutPreview, CheckoutPreviewRequest, ErrorBody, QuoteView,
};
use member_core::money::{AmountError, Cents};
use member_core::tier_program as rules;

use crate::till::http::card_check;

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Json, StaffSession};
use crate::members::store::members;
use crate::members::views::member_summary;
use crate::state::AppState;
use crate::tiers::store::tier_program;
use crate::till::http::card_check::Use;
use crate::till::store::checkout;

#[utoipa::path(post, path = "/api/v1/staff/checkout/preview", tag = "staff",
    request_body = CheckoutPreviewRequest,
    responses(
        (status = 200, description = "The member, their coupons (usable for this basket or why not) and the quote; nothing is changed", body = CheckoutPreview),
        (status = 400, description = "invalid_amount / card_code_malformed / invalid_input / coupon_duplicate", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "store_required / lookup_required", body = ErrorBody),
        (status = 409, description = "card_code_used / coupon_used", body = ErrorBody),
        (status = 410, description = "card_code_expired / lookup_expired", body = ErrorBody),
        (status = 422, description = "card_code_invalid / coupon_not_found / coupon_expired / coupon_not_yet_valid / coupon_min_spend / coupon_wrong_store / coupons_not_stackable", body = ErrorBody),
        (status = 429, description = "too_many_wrong_codes (Retry-After), as in /staff/verify", body = ErrorBody),
    ))]
pub async fn preview(
    State(state): State<AppState>,
    session: StaffSession,
    Json(req): Json<CheckoutPreviewRequest>,
) -> ApiResult<Json<CheckoutPreview>> {
    let (_, store_code) = session.store()?;
    checkout::check_count(&req.coupon_ids)?;
    // An empty basket is a fair question: the till asks right after the look-up, before
    // an amount is typed, for the member's coupons (a 400 there was the console's noise).
    let amount = Cents::paid(req.amount_cents).map_err(|e| {
        ApiError::BadRequest(
            codes::INVALID_AMOUNT,
            match e {
                AmountError::NotPositive => "金额不能为负 / Amount can't be negative".into(),
                AmountError::TooLarge => "金额过大 / Amount too large".into(),
            },
        )
    })?;
    let who = crate::till::http::lookup::identify(
        &state,
        &session,
        &req.code,
        req.member_no.as_deref(),
        req.lookup_token.as_deref(),
    )?;
    // A scanned code goes through the guessing-limited card check; a look-up's token
    // was checked by `identify`.
    let scanned = match who.totp() {
        Some(_) => card_check::check(&state, &session, &req.code, Use::Look)
            .await?
            .scanned
            .ok_or(ApiError::Internal)?,
        None => members::scanned(&state.db, who.member_no())
            .await?
            .ok_or(ApiError::NotFound)?,
    };
    let member = &scanned.member;
    let now = state.clock.now();

    let (listed, named) =
        checkout::preview_rows(&state.db, member.id, &req.coupon_ids, now).await?;
    let till = Till {
        now,
        store_code,
        basket_cents: amount.get(),
    };
    let mut coupons = Vec::with_capacity(listed.len());
    for (row, view) in listed {
        let refusal = coupons::check(&row.held()?, &till).err();
        coupons.push(CheckoutCoupon {
            coupon: view,
            usable: refusal.is_none(),
            refusal: refusal.map(|r| r.code().to_string()),
        });
    }
    // Usable first; within each group the soonest expiry first (the listing's order).
    coupons.sort_by_key(|c| !c.usable);
    let quoted = checkout::quote_rows(named, &req.coupon_ids, &till)?;
    // The purchase's own rule, at this instant: tier rate, member day, birthday month.
    let version = tier_program::in_effect(&state.db, now).await?;
    let program = &version.program;
    let payable = Cents::paid(quoted.quote.payable_cents).map_err(|_| ApiError::Internal)?;
    let tier = rules::index_of(program, &member.tier_code).unwrap_or(0);
    let points_earned = rules::earn(program, tier, payable, now, member.birthday()).points;
    let earn = rules::earn_rates(program, tier, now, member.birthday());
    Ok(Json(CheckoutPreview {
        member: member_summary(member, &scanned.tier_name),
        store_code: store_code.to_string(),
        server_unix: now,
        quote: QuoteView {
            basket_cents: quoted.quote.basket_cents,
            discount_cents: quoted.quote.discount_cents,
            payable_cents: quoted.quote.payable_cents,
            lines: quoted.line_views(),
            points_earned,
        },
        coupons,
        earn,
    }))
}

/// The routes this file answers.
pub fn routes() -> axum::Router<crate::state::AppState> {
    use axum::routing::post;
    axum::Router::new().route("/api/v1/staff/checkout/preview", post(preview))
}
