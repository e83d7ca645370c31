//! The points mall for the signed-in member: browse, redeem, own orders.

use crate::http::extract::Path;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use member_core::dto::{
    codes, ErrorBody, MallItem, MallOrder, MallOrderPage, MallOrderRequest, MallOrderResult,
};
use member_core::mall::{normalize_order_code, Refusal, MAX_QUANTITY};
use member_core::tiers::TierRule;
use serde::Deserialize;

use crate::clock::rfc3339;
use crate::db::DbError;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{IdempotencyKey, Json, MemberSession};
use crate::http::idempotent;
use crate::mall::store::mall::MemberItemRow;
use crate::mall::store::mall_orders::redeem::{self, NewRedemption};
use crate::mall::store::mall_orders::{self, MallError};
use crate::members::store::members;
use crate::members::views::tier_ref;
use crate::state::AppState;

const PAGE: i64 = 20;

impl From<MallError> for ApiError {
    fn from(e: MallError) -> Self {
        match e {
            MallError::Db(e) => e.into(),
            MallError::Refused(r) => refusal(r),
            MallError::RefundNeedsManager => Self::Forbidden(
                codes::FORBIDDEN,
                "已领取的订单只能由领取门店的店长或管理员退还 / Only a manager of the store \
                 where it was collected, or an admin, can refund a collected order"
                    .into(),
            ),
        }
    }
}

fn refusal(r: Refusal) -> ApiError {
    match r {
        Refusal::InvalidQuantity => invalid_quantity(),
        Refusal::Unavailable => ApiError::Unprocessable(
            codes::ITEM_UNAVAILABLE,
            "该商品当前不可兑换 / This item is not available now".into(),
        ),
        Refusal::TierLocked => ApiError::Unprocessable(
            codes::TIER_REQUIRED,
            "该商品仅限更高等级会员兑换 / This item is for a higher tier".into(),
        ),
        Refusal::LimitReached => DbError::LimitReached.into(),
        Refusal::OutOfStock => DbError::OutOfStock.into(),
        Refusal::InsufficientPoints => DbError::InsufficientPoints.into(),
    }
}

fn invalid_quantity() -> ApiError {
    ApiError::BadRequest(
        codes::INVALID_QUANTITY,
        format!("数量须为 1–{MAX_QUANTITY} / Quantity must be 1–{MAX_QUANTITY}"),
    )
}

/// Index of a tier in threshold order (the rank `member_core::mall` compares).
fn rank(tiers: &[TierRule], code: &str) -> Option<usize> {
    tiers.iter().position(|t| t.code == code)
}

fn mall_item(row: MemberItemRow, tiers: &[TierRule], member_rank: usize) -> MallItem {
    let item = row.item;
    let required_rank = item.min_tier_code.as_deref().map(|c| rank(tiers, c));
    MallItem {
        id: item.id,
        name: item.name,
        description: item.description,
        category: item.category,
        kind: item.kind,
        image_url: item.image_url,
        points_price: item.points_price,
        cash_cents: item.cash_cents,
        stock: item.stock,
        per_member_limit: item.per_member_limit,
        redeemed_by_me: row.redeemed_by_me,
        required_tier: item.min_tier_code.as_deref().map(|c| tier_ref(tiers, c)),
        // A tier code missing from the program can't be reached: locked.
        locked: required_rank.is_some_and(|r| r.is_none_or(|r| member_rank < r)),
        available_from: item.available_from.map(rfc3339),
        available_until: item.available_until.map(rfc3339),
        coupon_template_id: item.coupon_template_id,
    }
}

/// The member's balance and tier rank, with the program's tiers.
async fn who(state: &AppState, session: &MemberSession) -> ApiResult<(i64, usize, Vec<TierRule>)> {
    let member = members::by_id(&state.db, session.member_id)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    let tiers = crate::tiers::store::tiers::all(&state.db, state.clock.now()).await?;
    let member_rank = rank(&tiers, &member.tier_code).unwrap_or(0);
    // What can be spent now: points due to expire are gone for redeeming even before
    // the expiry job reaches them (as on the card).
    let now = state.clock.now();
    let batches = crate::points::store::ledger::batches(&state.db, member.id).await?;
    let spendable = member_core::points::spendable(&batches, now).min(member.points);
    Ok((spendable, member_rank, tiers))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ItemsQuery {
    /// Only items of this category (exact match).
    category: Option<String>,
    /// `true`: only items the member could redeem now by price and tier.
    affordable: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/mall/items", tag = "mall",
    params(ItemsQuery),
    responses(
        (status = 200, description = "Items on sale now, in display order; tier-only items \
                                      are included with `locked`", body = [MallItem]),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
    ))]
pub async fn items(
    State(state): State<AppState>,
    session: MemberSession,
    query: Result<Query<ItemsQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<MallItem>>> {
    let Query(query) = query.map_err(|e| ApiError::invalid_input(e.body_text()))?;
    let (points, member_rank, tiers) = who(&state, &session).await?;
    let rows =
        crate::mall::store::mall::visible(&state.db, session.member_id, state.clock.now()).await?;
    let category = query.category.as_deref().filter(|c| !c.is_empty());
    let affordable = query.affordable.unwrap_or(false);
    Ok(Json(
        rows.into_iter()
            .filter(|r| category.is_none_or(|c| r.item.category == c))
            .map(|r| mall_item(r, &tiers, member_rank))
            .filter(|i| !affordable || (i.points_price <= points && !i.locked))
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/v1/mall/items/{id}", tag = "mall",
    params(("id" = i64, Path, description = "Item id")),
    responses(
        (status = 200, body = MallItem),
        (status = 401, body = ErrorBody),
        (status = 404, description = "not_found (unknown or hidden)", body = ErrorBody),
    ))]
pub async fn item(
    State(state): State<AppState>,
    session: MemberSession,
    Path(id): Path<String>,
) -> ApiResult<Json<MallItem>> {
    let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
    let (_, member_rank, tiers) = who(&state, &session).await?;
    let row = crate::mall::store::mall::visible_one(&state.db, session.member_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(mall_item(row, &tiers, member_rank)))
}

#[utoipa::path(post, path = "/api/v1/mall/orders", tag = "mall",
    request_body = MallOrderRequest,
    params(("Idempotency-Key" = String, Header, description = "1–100 visible ASCII characters; \
            a retry with the same key and body gets the stored answer")),
    responses(
        (status = 201, description = "Redeemed (or the stored answer of an earlier identical \
                                      request, with `idempotent-replayed: true`); a coupon item's \
                                      coupons are in the wallet and its order is `collected`",
         body = MallOrderResult),
        (status = 400, description = "invalid_quantity / idempotency_key_required / invalid_input",
         body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, description = "not_found (unknown or hidden item)", body = ErrorBody),
        (status = 409, description = "request_in_progress", body = ErrorBody),
        (status = 422, description = "insufficient_points / out_of_stock / limit_reached / \
                                      tier_required / item_unavailable / coupons_exhausted (the \
                                      coupon item's template is given out) / \
                                      idempotency_key_reused",
         body = ErrorBody),
    ))]
pub async fn redeem(
    State(state): State<AppState>,
    session: MemberSession,
    IdempotencyKey(key): IdempotencyKey,
    Json(req): Json<MallOrderRequest>,
) -> ApiResult<Response> {
    if !(1..=MAX_QUANTITY).contains(&req.quantity) {
        return Err(invalid_quantity());
    }
    let scope = format!("mall:member:{}", session.member_id);
    let hash = idempotent::request_hash(&[&req.item_id.to_be_bytes(), &req.quantity.to_be_bytes()]);
    let outcome = redeem::redeem(
        &state.db,
        &NewRedemption {
            member_id: session.member_id,
            item_id: req.item_id,
            quantity: req.quantity,
            idempotency_scope: &scope,
            idempotency_key: &key,
            request_hash: &hash,
            now: state.clock.now(),
        },
    )
    .await?;
    Ok(idempotent::respond(outcome, StatusCode::CREATED))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct OrdersQuery {
    /// `next` from the previous page.
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/me/mall/orders", tag = "mall",
    params(OrdersQuery),
    responses((status = 200, description = "20 per page, newest first", body = MallOrderPage),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn my_orders(
    State(state): State<AppState>,
    session: MemberSession,
    query: Result<Query<OrdersQuery>, QueryRejection>,
) -> ApiResult<Json<MallOrderPage>> {
    let Query(query) = query.map_err(|e| ApiError::invalid_input(e.body_text()))?;
    let before = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(
            c.parse::<i64>()
                .ok()
                .filter(|id| *id > 0)
                .ok_or_else(|| ApiError::invalid_input("无效的分页游标 / Invalid cursor"))?,
        ),
    };
    let mut rows = mall_orders::member_page(&state.db, session.member_id, before, PAGE + 1).await?;
    let page = usize::try_from(PAGE).unwrap_or(20);
    let more = rows.len() > page;
    rows.truncate(page);
    let next = if more {
        rows.last().map(|r| r.id.to_string())
    } else {
        None
    };
    Ok(Json(MallOrderPage {
        items: rows.iter().map(mall_orders::OrderRow::view).collect(),
        next,
    }))
}

#[utoipa::path(get, path = "/api/v1/me/mall/orders/{code}", tag = "mall",
    params(("code" = String, Path, description = "Order code (case, spaces and dashes ignored)")),
    responses((status = 200, body = MallOrder), (status = 401, body = ErrorBody),
              (status = 404, description = "not_found (also another member's order)",
               body = ErrorBody)))]
pub async fn my_order(
    State(state): State<AppState>,
    session: MemberSession,
    Path(code): Path<String>,
) -> ApiResult<Json<MallOrder>> {
    let code = normalize_order_code(&code).ok_or(ApiError::NotFound)?;
    let row = mall_orders::member_order(&state.db, session.member_id, &code)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(row.view()))
}

/// The routes this file answers.
pub fn routes() -> axum::Router<crate::state::AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/api/v1/mall/items", get(items))
        .route("/api/v1/mall/items/{id}", get(item))
        .route("/api/v1/mall/orders", post(redeem))
        .route("/api/v1/me/mall/orders", get(my_orders))
        .route("/api/v1/me/mall/orders/{code}", get(my_order))
}
