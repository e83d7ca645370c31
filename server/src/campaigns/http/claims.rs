//! Claim links: a QR or link (`/claim/{token}`) that puts a campaign's coupon pack in the
//! wallet of whoever claims it, once per member, up to the campaign's cap.

use axum::extract::State;
use axum::http::HeaderMap;
use member_core::dto::{ClaimCoupon, ClaimResult, ClaimView, CouponBenefit, ErrorBody};

use crate::auth::store::sessions::{self, Kind};
use crate::campaigns::store as campaigns;
use crate::campaigns::store::claims::Claimed;
use crate::campaigns::store::CampaignRow;
use crate::coupons::store::wallet;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{cookie, session_mac, Json, MemberSession, Path, MEMBER_COOKIE};
use crate::state::AppState;

/// Longest token looked up. Generated tokens are 16 characters of the coupon-code
/// alphabet; anything longer or with other characters can't be one and never reaches
/// the database (Postgres refuses NUL in text).
const MAX_TOKEN: usize = 64;

/// The token in canonical form (upper case), or `None` if it can't be one.
fn token(raw: &str) -> Option<String> {
    let t = raw.trim();
    (!t.is_empty() && t.len() <= MAX_TOKEN && t.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then(|| t.to_ascii_uppercase())
}

async fn link(state: &AppState, raw: &str) -> ApiResult<CampaignRow> {
    let t = token(raw).ok_or(ApiError::NotFound)?;
    campaigns::claims::by_token(&state.db, &t)
        .await?
        .ok_or(ApiError::NotFound)
}

/// The signed-in member, if any: the link page is public, a session only adds `claimed`.
async fn member_if_signed_in(state: &AppState, headers: &HeaderMap) -> ApiResult<Option<i64>> {
    let Some(token) = cookie(headers, MEMBER_COOKIE) else {
        return Ok(None);
    };
    let mac = session_mac(state, token);
    Ok(sessions::subject(&state.db, &mac, Kind::Member, state.clock.now()).await?)
}

#[utoipa::path(get, path = "/api/v1/claims/{token}", tag = "program",
    params(("token" = String, Path, description = "The link's token (case ignored)")),
    responses(
        (status = 200, description = "What the link gives; `open: false` once switched off, \
                                      ended or not started; `remaining` when capped; `claimed` \
                                      for a signed-in member who has it", body = ClaimView),
        (status = 404, description = "not_found (unknown token)", body = ErrorBody),
    ))]
pub async fn view(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> ApiResult<Json<ClaimView>> {
    let c = link(&state, &raw).await?;
    let now = state.clock.now();
    let lines = campaigns::claims::pack_lines(&state.db, c.id).await?;
    let claimed = match member_if_signed_in(&state, &headers).await? {
        Some(member_id) => campaigns::claims::has_grant(&state.db, c.id, member_id).await?,
        None => false,
    };
    Ok(Json(ClaimView {
        open: c.open_at(now),
        remaining: c.total_cap.map(|cap| (cap - c.granted_count).max(0)),
        name: c.name,
        coupons: lines
            .into_iter()
            .map(|l| ClaimCoupon {
                name: l.name,
                benefit: CouponBenefit {
                    kind: l.kind,
                    amount_off_cents: l.amount_off_cents,
                    percent_off: l.percent_off,
                    cap_cents: l.cap_cents,
                    gift_name: l.gift_name,
                },
                min_spend_cents: l.min_spend_cents,
                quantity: l.quantity,
            })
            .collect(),
        claimed,
    }))
}

#[utoipa::path(post, path = "/api/v1/me/claims/{token}", tag = "member",
    params(("token" = String, Path, description = "The link's token (case ignored)")),
    responses(
        (status = 200, description = "The coupons now in the wallet; claiming again answers the \
                                      same coupons with `already_claimed: true`",
         body = ClaimResult),
        (status = 401, body = ErrorBody),
        (status = 404, description = "not_found (unknown token)", body = ErrorBody),
        (status = 410, description = "campaign_closed (switched off, ended or not started)",
         body = ErrorBody),
        (status = 422, description = "coupons_exhausted (the link's cap or the templates' \
                                      stock is used up) / tier_required / limit_reached; \
                                      nothing was kept", body = ErrorBody),
    ))]
pub async fn claim(
    State(state): State<AppState>,
    session: MemberSession,
    Path(raw): Path<String>,
) -> ApiResult<Json<ClaimResult>> {
    let c = link(&state, &raw).await?;
    let now = state.clock.now();
    let (ids, already_claimed) =
        match campaigns::claims::claim(&state.db, c.id, session.member_id, now).await? {
            Claimed::New(ids) => (ids, false),
            Claimed::Already(ids) => (ids, true),
        };
    let mut conn = state
        .db
        .reader()
        .acquire()
        .await
        .map_err(crate::db::DbError::from)?;
    let coupons = wallet::views_by_ids(&mut conn, session.member_id, &ids, now).await?;
    Ok(Json(ClaimResult {
        coupons,
        already_claimed,
    }))
}

/// The routes this file answers.
pub fn routes() -> axum::Router<crate::state::AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/api/v1/claims/{token}", get(view))
        .route("/api/v1/me/claims/{token}", post(claim))
}
