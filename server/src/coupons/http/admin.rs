//! Admin: coupon templates (list, create, change name/description/switch/limits). The
//! benefit and rules of a template never change once created: coupons already in
//! wallets carry them.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use member_core::coupons::MAX_VALID_DAYS;
use member_core::dto::{
    codes, AdminCouponTemplate, CouponBenefit, CouponTemplatePatch, Created, ErrorBody,
    NewCouponTemplate,
};
use member_core::money::MAX_PURCHASE_CENTS;

use crate::clock::rfc3339;
use crate::coupons::store::coupon_templates::{
    self, Change, ChangeRefused, NewTemplate, TemplateRow,
};
use crate::db::Changed;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{AdminSession, Json, Path};
use crate::mall::http::admin::{bad, description, in_range, parse_opt_time, text};
use crate::mall::store::mall::tier_exists;
use crate::state::AppState;

const MAX_NAME_CHARS: usize = 40;
const MAX_GIFT_CHARS: usize = 40;
const MAX_LIMIT: i64 = 100_000_000;
const MAX_STORES: usize = 200;

fn view(t: TemplateRow) -> AdminCouponTemplate {
    AdminCouponTemplate {
        id: t.id,
        name: t.name,
        description: t.description,
        benefit: CouponBenefit {
            kind: t.kind,
            amount_off_cents: t.amount_off_cents,
            percent_off: t.percent_off,
            cap_cents: t.cap_cents,
            gift_name: t.gift_name,
        },
        min_spend_cents: t.min_spend_cents,
        stackable: t.stackable != 0,
        store_codes: t
            .store_codes
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        valid_from: t.valid_from.map(rfc3339),
        valid_until: t.valid_until.map(rfc3339),
        valid_days: t.valid_days,
        total_limit: t.total_limit,
        per_member_limit: t.per_member_limit,
        required_tier: t.required_tier_code,
        active: t.active != 0,
        issued: t.issued_count,
        used: t.used,
        created_at: rfc3339(t.created_at),
    }
}

/// The benefit as stored: only the fields of its kind, checked by the same rule code
/// that applies it.
fn benefit(b: &CouponBenefit) -> ApiResult<CouponBenefit> {
    let mut clean = CouponBenefit {
        kind: b.kind.trim().to_string(),
        amount_off_cents: 0,
        percent_off: 0,
        cap_cents: None,
        gift_name: None,
    };
    match clean.kind.as_str() {
        "amount" => {
            clean.amount_off_cents = in_range(
                "benefit.amount_off_cents",
                b.amount_off_cents,
                1,
                MAX_PURCHASE_CENTS,
            )?;
        }
        "percent" => {
            clean.percent_off = in_range("benefit.percent_off", b.percent_off, 1, 99)?;
            clean.cap_cents = b
                .cap_cents
                .map(|c| in_range("benefit.cap_cents", c, 1, MAX_PURCHASE_CENTS))
                .transpose()?;
        }
        "gift" => {
            clean.gift_name = Some(text(
                "benefit.gift_name",
                b.gift_name.as_deref().unwrap_or(""),
                1,
                MAX_GIFT_CHARS,
            )?);
        }
        _ => {
            return Err(bad(
                "benefit.kind 须为 amount、percent 或 gift / benefit.kind must be amount, \
                 percent or gift"
                    .into(),
            ))
        }
    }
    if clean.to_benefit().is_none() {
        return Err(bad("benefit 无效 / benefit is not valid".into()));
    }
    Ok(clean)
}

fn limit(field: &str, v: Option<i64>, min: i64) -> ApiResult<Option<i64>> {
    v.map(|n| in_range(field, n, min, MAX_LIMIT)).transpose()
}

async fn check_new(state: &AppState, req: &NewCouponTemplate) -> ApiResult<NewTemplate> {
    let b = benefit(&req.benefit)?;
    let valid_from = parse_opt_time("valid_from", req.valid_from.as_deref())?;
    let valid_until = parse_opt_time("valid_until", req.valid_until.as_deref())?;
    let valid_days = req
        .valid_days
        .map(|d| in_range("valid_days", d, 1, i64::from(MAX_VALID_DAYS)))
        .transpose()?;
    match (valid_days, valid_from, valid_until) {
        (Some(_), None, None) => {}
        (None, from, Some(until)) => {
            if from.is_some_and(|f| f >= until) {
                return Err(bad(
                    "valid_from 须早于 valid_until / valid_from must be before valid_until".into(),
                ));
            }
            if until <= state.clock.now() {
                return Err(bad(
                    "valid_until 已经过去 / valid_until is in the past".into()
                ));
            }
        }
        _ => {
            return Err(bad(
                "有效期须为 valid_days，或 valid_until（可加 valid_from）其一 / Give either \
                 valid_days, or valid_until (with an optional valid_from)"
                    .into(),
            ))
        }
    }
    if req.store_codes.len() > MAX_STORES {
        return Err(bad(format!(
            "store_codes 最多 {MAX_STORES} 个 / at most {MAX_STORES} store_codes"
        )));
    }
    let known = coupon_templates::known_stores(&state.db).await?;
    let mut stores: Vec<String> = Vec::new();
    for code in &req.store_codes {
        let code = code.trim();
        if !known.iter().any(|k| k == code) {
            return Err(bad(format!(
                "store_codes 含未知门店：{} / unknown store code: {}",
                code.escape_debug(),
                code.escape_debug()
            )));
        }
        if !stores.iter().any(|s| s == code) {
            stores.push(code.to_string());
        }
    }
    let tier = req
        .required_tier
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    if let Some(code) = tier {
        if code.chars().any(char::is_control)
            || code.len() > 64
            || !tier_exists(&state.db, code).await?
        {
            return Err(bad(format!(
                "required_tier 不是已有的等级：{} / required_tier is not a tier code: {}",
                code.escape_debug(),
                code.escape_debug()
            )));
        }
    }
    Ok(NewTemplate {
        name: text("name", &req.name, 1, MAX_NAME_CHARS)?,
        description: description(&req.description)?,
        kind: b.kind,
        amount_off_cents: b.amount_off_cents,
        percent_off: b.percent_off,
        cap_cents: b.cap_cents,
        gift_name: b.gift_name,
        min_spend_cents: in_range(
            "min_spend_cents",
            req.min_spend_cents,
            0,
            MAX_PURCHASE_CENTS,
        )?,
        stackable: req.stackable,
        store_codes: stores,
        valid_from,
        valid_until,
        valid_days,
        total_limit: limit("total_limit", req.total_limit, 1)?,
        per_member_limit: limit("per_member_limit", req.per_member_limit, 1)?,
        required_tier_code: tier.map(str::to_string),
    })
}

#[utoipa::path(get, path = "/api/v1/admin/coupon-templates", tag = "admin",
    responses(
        (status = 200, description = "Every template with issued and used counts",
         body = [AdminCouponTemplate]),
        (status = 401, body = ErrorBody),
        (status = 403, description = "forbidden (not an admin)", body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    _admin: AdminSession,
) -> ApiResult<Json<Vec<AdminCouponTemplate>>> {
    let rows = coupon_templates::list(&state.db).await?;
    Ok(Json(rows.into_iter().map(view).collect()))
}

#[utoipa::path(post, path = "/api/v1/admin/coupon-templates", tag = "admin",
    request_body = NewCouponTemplate,
    responses(
        (status = 201, description = "Created (audit-logged)", body = Created),
        (status = 400, description = "invalid_input", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "forbidden (not an admin)", body = ErrorBody),
    ))]
pub async fn create(
    State(state): State<AppState>,
    session: AdminSession,
    Json(req): Json<NewCouponTemplate>,
) -> ApiResult<Response> {
    let t = check_new(&state, &req).await?;
    let actor = format!("admin:{}", session.staff.username);
    let id = coupon_templates::create(&state.db, &actor, &t, state.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(Created { id })).into_response())
}

#[utoipa::path(patch, path = "/api/v1/admin/coupon-templates/{id}", tag = "admin",
    request_body = CouponTemplatePatch,
    params(("id" = i64, Path, description = "Template id")),
    responses(
        (status = 200, description = "The template after the change (audit-logged)",
         body = AdminCouponTemplate),
        (status = 400, description = "invalid_input", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "forbidden (not an admin)", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "invalid_input (total_limit below the coupons issued)",
         body = ErrorBody),
    ))]
pub async fn update(
    State(state): State<AppState>,
    session: AdminSession,
    Path(id): Path<String>,
    Json(patch): Json<CouponTemplatePatch>,
) -> ApiResult<Json<AdminCouponTemplate>> {
    let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
    let change = Change {
        name: patch
            .name
            .as_deref()
            .map(|n| text("name", n, 1, MAX_NAME_CHARS))
            .transpose()?,
        description: patch.description.as_deref().map(description).transpose()?,
        active: patch.active,
        total_limit: patch
            .total_limit
            .map(|v| limit("total_limit", v, 1))
            .transpose()?,
        per_member_limit: patch
            .per_member_limit
            .map(|v| limit("per_member_limit", v, 1))
            .transpose()?,
    };
    let actor = format!("admin:{}", session.staff.username);
    match coupon_templates::update(&state.db, &actor, id, &change, state.clock.now()).await {
        Ok(row) => Ok(Json(view(row))),
        Err(Changed::NotFound) => Err(ApiError::NotFound),
        // 422, not 400: the number is well-formed, the coupons already out rule it out.
        Err(Changed::Refused(ChangeRefused::TotalBelowIssued(issued))) => {
            Err(ApiError::Unprocessable(
                codes::INVALID_INPUT,
                format!(
                    "total_limit 不能小于已发放的 {issued} 张 / total_limit can't be below the \
                     {issued} already issued"
                ),
            ))
        }
        Err(Changed::Db(e)) => Err(e.into()),
    }
}

/// The routes this file answers.
pub fn routes() -> axum::Router<crate::state::AppState> {
    use axum::routing::{get, patch};
    axum::Router::new()
        .route("/api/v1/admin/coupon-templates", get(list).post(create))
        .route("/api/v1/admin/coupon-templates/{id}", patch(update))
}
