//! Admin console: mall items (list with hidden ones, create, edit). Every change is
//! audit-logged with the item before and after.

use crate::clock::rfc3339;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Path;
use crate::http::extract::{AdminSession, Json};
use crate::mall::store::mall::{self, AdminItemRow, ItemFields};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use member_core::dto::{codes, AdminMallItem, Created, ErrorBody, MallItemPatch, NewMallItem};

const MAX_NAME_CHARS: usize = 60;
const MAX_DESCRIPTION_CHARS: usize = 500;
const MAX_CATEGORY_CHARS: usize = 20;
const MAX_POINTS_PRICE: i64 = 10_000_000;
const MAX_STOCK: i64 = 10_000_000;
const MAX_CASH_CENTS: i64 = 100_000_000;
const MAX_IMAGE_URL: usize = 500;
const MAX_SORT: i64 = 1_000_000_000;
const KINDS: [&str; 3] = ["goods", "voucher", "partner"];

pub(crate) fn bad(message: String) -> ApiError {
    ApiError::invalid_input(message)
}

fn view(row: AdminItemRow) -> AdminMallItem {
    let i = row.item;
    AdminMallItem {
        id: i.id,
        name: i.name,
        description: i.description,
        category: i.category,
        kind: i.kind,
        image_url: i.image_url,
        points_price: i.points_price,
        cash_cents: i.cash_cents,
        stock: i.stock,
        per_member_limit: i.per_member_limit,
        min_tier: i.min_tier_code,
        available_from: i.available_from.map(rfc3339),
        available_until: i.available_until.map(rfc3339),
        hidden: i.hidden != 0,
        sort: i.sort,
        redeemed: row.redeemed,
        coupon_template_id: i.coupon_template_id,
    }
}

/// 2000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: a time outside can only be a typo, and
/// would not format back as RFC 3339.
const EARLIEST: i64 = 946_684_800;
const LATEST: i64 = 253_402_300_799;

pub(crate) fn parse_time(field: &str, raw: &str) -> ApiResult<i64> {
    chrono::DateTime::parse_from_rfc3339(raw.trim())
        .ok()
        .map(|t| t.timestamp())
        .filter(|t| (EARLIEST..=LATEST).contains(t))
        .ok_or_else(|| {
            bad(format!(
                "{field} 须为 RFC 3339 时间，如 2026-05-01T00:00:00+08:00 / \
                 {field} must be an RFC 3339 time, e.g. 2026-05-01T00:00:00+08:00"
            ))
        })
}

pub(crate) fn parse_opt_time(field: &str, raw: Option<&str>) -> ApiResult<Option<i64>> {
    raw.map(|r| parse_time(field, r)).transpose()
}

/// Single-line text: trimmed, within `max` characters, no control characters.
pub(crate) fn text(field: &str, raw: &str, min: usize, max: usize) -> ApiResult<String> {
    let t = raw.trim();
    let n = t.chars().count();
    if n < min || n > max || t.chars().any(char::is_control) {
        return Err(bad(format!(
            "{field} 须为 {min}–{max} 个字且不含控制字符 / \
             {field} must be {min}–{max} characters without control characters"
        )));
    }
    Ok(t.to_string())
}

/// The description may have line breaks, nothing else invisible.
pub(crate) fn description(raw: &str) -> ApiResult<String> {
    let t = raw.trim();
    if t.chars().count() > MAX_DESCRIPTION_CHARS || t.chars().any(|c| c.is_control() && c != '\n') {
        return Err(bad(format!(
            "description 最多 {MAX_DESCRIPTION_CHARS} 个字 / description must be at most \
             {MAX_DESCRIPTION_CHARS} characters without control characters"
        )));
    }
    Ok(t.to_string())
}

/// Same-origin paths (`/mall/img/x.svg`) or https URLs: never `javascript:`, `data:`,
/// plain http or protocol-relative `//host`.
fn image_url(raw: &str) -> ApiResult<String> {
    let u = raw.trim();
    let same_origin = u.starts_with('/') && !u.starts_with("//");
    let ok = (same_origin || u.starts_with("https://"))
        && u.len() <= MAX_IMAGE_URL
        && u.bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'<' | b'>' | b'\\'));
    if !ok {
        return Err(bad(format!(
            "image_url 须以 / 或 https:// 开头，最多 {MAX_IMAGE_URL} 个字符 / image_url must \
             start with / or https:// and be at most {MAX_IMAGE_URL} characters"
        )));
    }
    Ok(u.to_string())
}

pub(crate) fn in_range(field: &str, v: i64, min: i64, max: i64) -> ApiResult<i64> {
    if (min..=max).contains(&v) {
        Ok(v)
    } else {
        Err(bad(format!(
            "{field} 须在 {min}–{max} 之间 / {field} must be between {min} and {max}"
        )))
    }
}

/// Checks that hold for the whole item (after a patch is merged).
fn check_item(f: &ItemFields) -> ApiResult<()> {
    in_range("points_price", f.points_price, 1, MAX_POINTS_PRICE)?;
    in_range("stock", f.stock, 0, MAX_STOCK)?;
    in_range("cash_cents", f.cash_cents, 0, MAX_CASH_CENTS)?;
    in_range("sort", f.sort, -MAX_SORT, MAX_SORT)?;
    if let Some(limit) = f.per_member_limit {
        in_range("per_member_limit", limit, 1, MAX_STOCK)?;
    }
    if !KINDS.contains(&f.kind.as_str()) {
        return Err(bad(
            "kind 须为 goods、voucher 或 partner / kind must be goods, voucher or partner".into(),
        ));
    }
    // A coupon item is delivered into the wallet, never picked up: only `voucher` fits,
    // and there is no counter to pay cash at.
    if f.coupon_template_id.is_some() && (f.kind != "voucher" || f.cash_cents != 0) {
        return Err(bad(
            "coupon_template_id 只能用于 kind 为 voucher 且不收现金的商品 / \
             coupon_template_id needs kind voucher and no cash_cents"
                .into(),
        ));
    }
    if let (Some(from), Some(until)) = (f.available_from, f.available_until) {
        if from >= until {
            return Err(bad(
                "available_from 须早于 available_until / available_from must be before \
                 available_until"
                    .into(),
            ));
        }
    }
    Ok(())
}

async fn check_template(state: &AppState, id: Option<i64>) -> ApiResult<()> {
    if let Some(id) = id {
        if id <= 0 || !mall::coupon_template_exists(&state.db, id).await? {
            return Err(bad(format!(
                "coupon_template_id 不是已有的券模板：{id} / coupon_template_id is not a \
                 coupon template: {id}"
            )));
        }
    }
    Ok(())
}

async fn check_tier(state: &AppState, code: Option<&str>) -> ApiResult<()> {
    if let Some(code) = code {
        // Postgres refuses NUL in text (a 500 otherwise); no tier code has control characters.
        if code.chars().any(char::is_control)
            || code.len() > 64
            || !mall::tier_exists(&state.db, code).await?
        {
            return Err(bad(format!(
                "min_tier 不是已有的等级：{code} / min_tier is not a tier code: {code}"
            )));
        }
    }
    Ok(())
}

#[utoipa::path(get, path = "/api/v1/admin/mall/items", tag = "admin",
    responses(
        (status = 200, description = "Every item, hidden ones included, in display order",
         body = [AdminMallItem]),
        (status = 401, body = ErrorBody),
        (status = 403, description = "forbidden (not an admin)", body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    _admin: AdminSession,
) -> ApiResult<Json<Vec<AdminMallItem>>> {
    let rows = mall::all_for_admin(&state.db).await?;
    Ok(Json(rows.into_iter().map(view).collect()))
}

#[utoipa::path(post, path = "/api/v1/admin/mall/items", tag = "admin",
    request_body = NewMallItem,
    responses(
        (status = 201, description = "Created (audit-logged)", body = Created),
        (status = 400, description = "invalid_input", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "forbidden (not an admin)", body = ErrorBody),
    ))]
pub async fn create(
    State(state): State<AppState>,
    session: AdminSession,
    Json(req): Json<NewMallItem>,
) -> ApiResult<Response> {
    let min_tier = req
        .min_tier
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let fields = ItemFields {
        name: text("name", &req.name, 1, MAX_NAME_CHARS)?,
        description: description(req.description.as_deref().unwrap_or(""))?,
        category: text(
            "category",
            req.category.as_deref().unwrap_or(""),
            0,
            MAX_CATEGORY_CHARS,
        )?,
        kind: req
            .kind
            .as_deref()
            .unwrap_or(if req.coupon_template_id.is_some() {
                "voucher"
            } else {
                "goods"
            })
            .trim()
            .to_string(),
        image_url: req.image_url.as_deref().map(image_url).transpose()?,
        points_price: req.points_price,
        cash_cents: req.cash_cents.unwrap_or(0),
        stock: req.stock,
        per_member_limit: req.per_member_limit,
        min_tier_code: min_tier.map(str::to_string),
        available_from: parse_opt_time("available_from", req.available_from.as_deref())?,
        available_until: parse_opt_time("available_until", req.available_until.as_deref())?,
        hidden: req.hidden.unwrap_or(false),
        sort: req.sort.unwrap_or(0),
        coupon_template_id: req.coupon_template_id,
    };
    check_item(&fields)?;
    check_tier(&state, min_tier).await?;
    check_template(&state, fields.coupon_template_id).await?;
    let actor = format!("admin:{}", session.staff.username);
    let id = mall::create(&state.db, &actor, &fields, state.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(Created { id })).into_response())
}

/// A patch with its text and times already checked, ready to merge under the lock.
struct Checked {
    name: Option<String>,
    description: Option<String>,
    category: Option<String>,
    kind: Option<String>,
    image_url: Option<Option<String>>,
    min_tier: Option<Option<String>>,
    available_from: Option<Option<i64>>,
    available_until: Option<Option<i64>>,
}

fn check_patch(p: &MallItemPatch) -> ApiResult<Checked> {
    let time = |field: &str, v: &Option<Option<String>>| -> ApiResult<Option<Option<i64>>> {
        v.as_ref()
            .map(|inner| parse_opt_time(field, inner.as_deref()))
            .transpose()
    };
    Ok(Checked {
        name: p
            .name
            .as_deref()
            .map(|n| text("name", n, 1, MAX_NAME_CHARS))
            .transpose()?,
        description: p.description.as_deref().map(description).transpose()?,
        category: p
            .category
            .as_deref()
            .map(|c| text("category", c, 0, MAX_CATEGORY_CHARS))
            .transpose()?,
        kind: p.kind.as_deref().map(|k| k.trim().to_string()),
        image_url: p
            .image_url
            .as_ref()
            .map(|u| u.as_deref().map(image_url).transpose())
            .transpose()?,
        min_tier: p.min_tier.as_ref().map(|t| {
            t.as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
        }),
        available_from: time("available_from", &p.available_from)?,
        available_until: time("available_until", &p.available_until)?,
    })
}

fn merge(mut f: ItemFields, p: &MallItemPatch, c: Checked) -> ApiResult<ItemFields> {
    if let Some(v) = c.name {
        f.name = v;
    }
    if let Some(v) = c.description {
        f.description = v;
    }
    if let Some(v) = c.category {
        f.category = v;
    }
    if let Some(v) = c.kind {
        f.kind = v;
    }
    if let Some(v) = c.image_url {
        f.image_url = v;
    }
    if let Some(v) = c.min_tier {
        f.min_tier_code = v;
    }
    if let Some(v) = c.available_from {
        f.available_from = v;
    }
    if let Some(v) = c.available_until {
        f.available_until = v;
    }
    if let Some(v) = p.points_price {
        f.points_price = v;
    }
    // Runs under the item's lock, so `f.stock` is what is left right now.
    if let Some(expected) = p.expected_stock {
        if expected != f.stock {
            return Err(ApiError::Conflict(
                codes::STOCK_CHANGED,
                format!("库存已变为 {} / Stock has changed to {}", f.stock, f.stock),
            ));
        }
    }
    match (p.stock, p.stock_delta) {
        (Some(_), Some(_)) => {
            return Err(bad(
                "stock 与 stock_delta 只能填一个 / Give stock or stock_delta, not both".into(),
            ))
        }
        // Absolute: the count on the shelf after a stock-take.
        (Some(v), None) => f.stock = v,
        (None, Some(d)) => {
            f.stock = f.stock.checked_add(d).filter(|s| *s >= 0).ok_or_else(|| {
                bad(format!(
                    "库存不足以减少 {d}（剩余 {}）/ Stock can't go below zero ({} left)",
                    f.stock, f.stock
                ))
            })?;
        }
        (None, None) => {}
    }
    if let Some(v) = p.per_member_limit {
        f.per_member_limit = v;
    }
    if let Some(v) = p.cash_cents {
        f.cash_cents = v;
    }
    if let Some(v) = p.hidden {
        f.hidden = v;
    }
    if let Some(v) = p.sort {
        f.sort = v;
    }
    if let Some(v) = p.coupon_template_id {
        f.coupon_template_id = v;
    }
    check_item(&f)?;
    Ok(f)
}

#[utoipa::path(patch, path = "/api/v1/admin/mall/items/{id}", tag = "admin",
    request_body = MallItemPatch,
    params(("id" = i64, Path, description = "Item id")),
    responses(
        (status = 200, description = "The item after the change (audit-logged)",
         body = AdminMallItem),
        (status = 400, description = "invalid_input", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "forbidden (not an admin)", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "stock_changed (expected_stock no longer holds)", body = ErrorBody),
    ))]
pub async fn update(
    State(state): State<AppState>,
    session: AdminSession,
    Path(id): Path<String>,
    Json(patch): Json<MallItemPatch>,
) -> ApiResult<Json<AdminMallItem>> {
    let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
    let checked = check_patch(&patch)?;
    if let Some(Some(tier)) = &checked.min_tier {
        check_tier(&state, Some(tier)).await?;
    }
    // Templates are never deleted, so one that exists now still does under the lock.
    if let Some(id) = patch.coupon_template_id {
        check_template(&state, id).await?;
    }
    let actor = format!("admin:{}", session.staff.username);
    let row = mall::update(&state.db, &actor, id, state.clock.now(), |f| {
        merge(f, &patch, checked)
    })
    .await?;
    Ok(Json(view(row)))
}

/// The routes this file answers.
pub fn routes() -> axum::Router<crate::state::AppState> {
    use axum::routing::{get, patch};
    axum::Router::new()
        .route("/api/v1/admin/mall/items", get(list).post(create))
        .route("/api/v1/admin/mall/items/{id}", patch(update))
}
