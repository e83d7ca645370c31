//! In-store sign-up: signed sign-up links (admin and managers make them, a cashier gets a
//! personal one), the public welcome page data, the brand's sign-up settings, and a
//! member's referral share page.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use member_core::dto::{
    codes, ErrorBody, ReferralView, SignupLinkList, SignupLinkRequest, SignupLinkView,
    SignupSettings, WelcomeGift, WelcomeView,
};
use member_core::signup::{self, Ask, LinkToken};
use serde::Deserialize;

use crate::clock::rfc3339;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{AdminSession, Json, MemberSession, Path, StaffSession};
use crate::mall::http::admin::{parse_opt_time, text};
use crate::members::store::members::Attribution;
use crate::signup::store::referrals;
use crate::signup::store::signup_links::{self, LinkRow, NewLink};
use crate::state::AppState;

const LINK_MAC: &str = "signup-link";

pub fn token(state: &AppState, row: &LinkRow) -> String {
    LinkToken::format(row.id, &state.secret.mac_hex(LINK_MAC, &row.signed_text()))
}

/// What a scanned token turned out to be.
pub enum LinkStatus {
    Ok(LinkRow),
    Expired(LinkRow),
    Revoked(LinkRow),
    /// Malformed, unknown, forged or altered: all look the same to the customer.
    Invalid,
}

impl LinkStatus {
    fn as_str(&self) -> &'static str {
        match self {
            Self::Ok(_) => "ok",
            Self::Expired(_) => "expired",
            Self::Revoked(_) => "revoked",
            Self::Invalid => "invalid",
        }
    }
}

pub async fn resolve(state: &AppState, raw: &str, now: i64) -> ApiResult<LinkStatus> {
    let Some(t) = LinkToken::parse(raw) else {
        return Ok(LinkStatus::Invalid);
    };
    let Some(row) = signup_links::for_scan(&state.db, t.id).await? else {
        return Ok(LinkStatus::Invalid);
    };
    if !crate::crypto::eq_ct(&token(state, &row), &LinkToken::format(t.id, &t.mac)) {
        return Ok(LinkStatus::Invalid);
    }
    Ok(if row.revoked_at.is_some() {
        LinkStatus::Revoked(row)
    } else if row.expires_at.is_some_and(|e| e <= now) {
        LinkStatus::Expired(row)
    } else {
        LinkStatus::Ok(row)
    })
}

/// The attribution a valid link gives a new member; any other link gives none.
pub async fn attribution(
    state: &AppState,
    raw: Option<&str>,
    now: i64,
) -> ApiResult<Option<Attribution>> {
    let Some(raw) = raw.filter(|r| !r.trim().is_empty()) else {
        return Ok(None);
    };
    Ok(match resolve(state, raw, now).await? {
        LinkStatus::Ok(row) => Some(Attribution {
            link_id: row.id,
            store_id: row.store_id,
            channel: row.channel,
            staff_id: row.staff_id,
            campaign_id: row.campaign_id,
        }),
        _ => None,
    })
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct WelcomeQuery {
    /// The signed link token.
    pub c: Option<String>,
    /// A friend's referral code.
    #[serde(rename = "ref")]
    pub referral: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/signup/welcome", tag = "signup",
    params(WelcomeQuery),
    responses((status = 200, description = "What the welcome page shows; link_status says whether the code attributes", body = WelcomeView)))]
pub async fn welcome(
    State(state): State<AppState>,
    query: Result<Query<WelcomeQuery>, QueryRejection>,
) -> ApiResult<Json<WelcomeView>> {
    let Query(q) = query.map_err(|e| ApiError::invalid_input(e.body_text()))?;
    let now = state.clock.now();
    let settings = signup_links::settings(&state.db).await?;
    let (link_status, store_name, gift) = match q.c.as_deref().filter(|c| !c.trim().is_empty()) {
        None => ("none", None, None),
        Some(raw) => {
            let status = resolve(&state, raw, now).await?;
            let name = status.as_str();
            match status {
                LinkStatus::Ok(row) => {
                    let gift = match row.campaign_id {
                        Some(id) => gift(&state, id, now).await?,
                        None => None,
                    };
                    (name, Some(row.store_name), gift)
                }
                _ => (name, None, None),
            }
        }
    };
    let rules = &settings.referral;
    let referrer = match q.referral.as_deref() {
        Some(code) if rules.enabled => referrals::referrer(&state.db, code)
            .await?
            .map(|(_, name)| mask_name(&name)),
        _ => None,
    };
    Ok(Json(WelcomeView {
        brand_name: settings.brand_name,
        call_to_action: settings.call_to_action,
        link_status: link_status.into(),
        store_name,
        gift,
        referral_reward: referrer.as_ref().map(|_| referrals::reward(rules)),
        referrer,
        fields: settings.fields,
    }))
}

async fn gift(state: &AppState, campaign_id: i64, now: i64) -> ApiResult<Option<WelcomeGift>> {
    let Some(pack) =
        crate::campaigns::store::schedule::pack_of_active_claim(&state.db, campaign_id, now)
            .await?
    else {
        return Ok(None);
    };
    Ok(Some(WelcomeGift {
        name: pack.0,
        items: pack
            .1
            .into_iter()
            .map(|(name, qty)| format!("{name} ×{qty}"))
            .collect(),
    }))
}

/// "王**": enough for a friend to recognise, not a full name for a stranger.
fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => format!("{first}{}", "*".repeat(chars.count().clamp(1, 3))),
        None => "*".into(),
    }
}

fn link_view(state: &AppState, row: LinkRow) -> SignupLinkView {
    let token = token(state, &row);
    SignupLinkView {
        id: row.id,
        path: format!("/join?c={token}"),
        token,
        store_code: row.store_code,
        store_name: row.store_name,
        channel: row.channel,
        staff_username: row.staff_username,
        campaign_id: row.campaign_id,
        label: row.label,
        expires_at: row.expires_at.map(rfc3339),
        revoked: row.revoked_at.is_some(),
        signups: row.signups,
        created_at: rfc3339(row.created_at),
    }
}

/// Admins act for every store, managers for their own; cashiers only get their
/// personal code (`POST /staff/signup-link`).
fn link_scope(session: &StaffSession) -> ApiResult<Option<i64>> {
    match session.staff.role.as_str() {
        "admin" => Ok(None),
        "manager" => session.staff.store_id.map(Some).ok_or(ApiError::Forbidden(
            codes::FORBIDDEN,
            "店长账号未绑定门店 / The manager account has no store".into(),
        )),
        _ => Err(ApiError::Forbidden(
            codes::FORBIDDEN,
            "需要店长或管理员权限 / Manager or admin role required".into(),
        )),
    }
}

#[utoipa::path(post, path = "/api/v1/admin/signup-links", tag = "signup",
    request_body = SignupLinkRequest,
    responses((status = 201, description = "Created; `path` is what the QR code encodes", body = SignupLinkView),
              (status = 400, description = "invalid_input", body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_link(
    State(state): State<AppState>,
    session: StaffSession,
    Json(req): Json<SignupLinkRequest>,
) -> ApiResult<(StatusCode, Json<SignupLinkView>)> {
    let scope = link_scope(&session)?;
    let now = state.clock.now();
    let channel = req.channel.trim();
    if !signup::valid_channel(channel) {
        return Err(ApiError::invalid_input(
            "channel 须为 1–32 个小写字母、数字、_ 或 -（如 poster）/ channel must be 1–32 of \
             a-z 0-9 _ - (e.g. poster)",
        ));
    }
    let store = crate::staff::store::store_by_code(&state.db, req.store_code.trim())
        .await?
        .ok_or_else(|| ApiError::invalid_input("没有这个门店 / No such store"))?;
    if scope.is_some_and(|s| s != store) {
        return Err(ApiError::Forbidden(
            codes::FORBIDDEN,
            "只能为本店生成 / Only for your own store".into(),
        ));
    }
    let staff_id = match req
        .staff_username
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        Some(u) => Some(
            crate::staff::store::id_in_store(&state.db, u, store)
                .await?
                .ok_or_else(|| {
                    ApiError::invalid_input(
                        "该门店没有这个店员 / No such staff member in the store",
                    )
                })?,
        ),
        None => None,
    };
    if let Some(c) = req.campaign_id {
        // A gift is the brand's to give: a manager could otherwise hand out any claim
        // pack (ids are sequential), private ones included.
        if scope.is_some() {
            return Err(ApiError::Forbidden(
                codes::FORBIDDEN,
                "只有管理员可以设置欢迎礼 / Only an admin can attach a welcome gift".into(),
            ));
        }
        if !signup_links::claim_campaign_exists(&state.db, c).await? {
            return Err(ApiError::invalid_input(
                "欢迎礼须为领取活动（claim）/ The welcome gift must be a claim campaign",
            ));
        }
    }
    let expires_at = parse_opt_time("expires_at", req.expires_at.as_deref())?;
    if expires_at.is_some_and(|e| e <= now) {
        return Err(ApiError::invalid_input(
            "expires_at 须晚于现在 / expires_at must be in the future",
        ));
    }
    let label = match req.label.as_deref() {
        Some(l) => text("label", l, 0, 60)?,
        None => String::new(),
    };
    let actor = format!("staff:{}", session.staff.username);
    // A plain staff code is that cashier's personal one: there is one per cashier.
    if let (Some(staff), "staff", None, None) = (staff_id, channel, req.campaign_id, expires_at) {
        let id = signup_links::personal(&state.db, store, staff, &actor, now).await?;
        let row = signup_links::by_id(&state.db, id)
            .await?
            .ok_or(ApiError::Internal)?;
        return Ok((StatusCode::CREATED, Json(link_view(&state, row))));
    }
    let id = signup_links::create(
        &state.db,
        &NewLink {
            store_id: store,
            channel,
            staff_id,
            campaign_id: req.campaign_id,
            label: &label,
            expires_at,
            actor: &actor,
            now,
        },
    )
    .await?;
    let row = signup_links::by_id(&state.db, id)
        .await?
        .ok_or(ApiError::Internal)?;
    Ok((StatusCode::CREATED, Json(link_view(&state, row))))
}

#[utoipa::path(get, path = "/api/v1/admin/signup-links", tag = "signup",
    responses((status = 200, body = SignupLinkList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_links(
    State(state): State<AppState>,
    session: StaffSession,
) -> ApiResult<Json<SignupLinkList>> {
    let scope = link_scope(&session)?;
    let rows = signup_links::list(&state.db, scope).await?;
    Ok(Json(SignupLinkList {
        items: rows.into_iter().map(|r| link_view(&state, r)).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/admin/signup-links/{id}/revoke", tag = "signup",
    params(("id" = i64, Path)),
    responses((status = 204, description = "Revoked (again: no change)"), (status = 404, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn revoke_link(
    State(state): State<AppState>,
    session: StaffSession,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let scope = link_scope(&session)?;
    let actor = format!("staff:{}", session.staff.username);
    if signup_links::revoke(&state.db, id, scope, &actor, state.clock.now()).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}

/// A link in the caller's scope, for the QR image routes.
pub async fn scoped_link(state: &AppState, session: &StaffSession, id: i64) -> ApiResult<LinkRow> {
    let scope = link_scope(session)?;
    signup_links::by_id(&state.db, id)
        .await?
        .filter(|r| scope.is_none_or(|s| s == r.store_id))
        .ok_or(ApiError::NotFound)
}

#[utoipa::path(post, path = "/api/v1/staff/signup-link", tag = "signup",
    responses((status = 200, description = "The cashier's personal sign-up code (the same one every time)", body = SignupLinkView),
              (status = 401, body = ErrorBody), (status = 403, description = "store_required", body = ErrorBody)))]
pub async fn personal_link(
    State(state): State<AppState>,
    session: StaffSession,
) -> ApiResult<Json<SignupLinkView>> {
    let store_id = session.staff.store_id.ok_or_else(|| {
        ApiError::Forbidden(
            codes::STORE_REQUIRED,
            "账号未绑定门店 / The account has no store".into(),
        )
    })?;
    let actor = format!("staff:{}", session.staff.username);
    let id = signup_links::personal(
        &state.db,
        store_id,
        session.staff.id,
        &actor,
        state.clock.now(),
    )
    .await?;
    let row = signup_links::by_id(&state.db, id)
        .await?
        .ok_or(ApiError::Internal)?;
    Ok(Json(link_view(&state, row)))
}

#[utoipa::path(get, path = "/api/v1/admin/signup-settings", tag = "signup",
    responses((status = 200, body = SignupSettings), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn get_settings(
    State(state): State<AppState>,
    _admin: AdminSession,
) -> ApiResult<Json<SignupSettings>> {
    Ok(Json(signup_links::settings(&state.db).await?))
}

#[utoipa::path(put, path = "/api/v1/admin/signup-settings", tag = "signup",
    request_body = SignupSettings,
    responses((status = 200, body = SignupSettings), (status = 400, description = "invalid_input", body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn put_settings(
    State(state): State<AppState>,
    session: AdminSession,
    Json(mut s): Json<SignupSettings>,
) -> ApiResult<Json<SignupSettings>> {
    s.brand_name = text("brand_name", &s.brand_name, 1, 30)?;
    s.call_to_action = text("call_to_action", &s.call_to_action, 0, 40)?;
    for (field, value) in [
        ("fields.birthday", &s.fields.birthday),
        ("fields.gender", &s.fields.gender),
        ("fields.city", &s.fields.city),
    ] {
        if Ask::parse(value).is_none() {
            return Err(ApiError::invalid_input(format!(
                "{field} 须为 off、optional 或 required / {field} must be off, optional or required"
            )));
        }
    }
    let r = &s.referral;
    let points_ok = |p: i64| (0..=100_000).contains(&p);
    if !points_ok(r.referrer_points)
        || !points_ok(r.friend_points)
        || !(0..=1000).contains(&r.daily_cap)
    {
        return Err(ApiError::invalid_input(
            "奖励积分须为 0–100000，每日上限 0–1000 / Reward points 0–100000, daily cap 0–1000",
        ));
    }
    for c in [r.referrer_campaign_id, r.friend_campaign_id]
        .into_iter()
        .flatten()
    {
        if !signup_links::claim_campaign_exists(&state.db, c).await? {
            return Err(ApiError::invalid_input(
                "奖励券须为领取活动（claim）/ Reward coupons must be a claim campaign",
            ));
        }
    }
    let actor = format!("staff:{}", session.staff.username);
    signup_links::save_settings(&state.db, &s, &actor, state.clock.now()).await?;
    Ok(Json(s))
}

#[utoipa::path(get, path = "/api/v1/me/referral", tag = "me",
    responses((status = 200, description = "The member's share code and how their invitations went", body = ReferralView),
              (status = 401, body = ErrorBody)))]
pub async fn my_referral(
    State(state): State<AppState>,
    session: MemberSession,
) -> ApiResult<Json<ReferralView>> {
    let rules = signup_links::settings(&state.db).await?.referral;
    Ok(Json(
        referrals::view(&state.db, session.member_id, &rules).await?,
    ))
}

/// The routes this file answers.
pub fn routes() -> axum::Router<crate::state::AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/api/v1/signup/welcome", get(welcome))
        .route("/api/v1/me/referral", get(my_referral))
        .route("/api/v1/staff/signup-link", post(personal_link))
        .route(
            "/api/v1/admin/signup-links",
            get(list_links).post(create_link),
        )
        .route("/api/v1/admin/signup-links/{id}/revoke", post(revoke_link))
        .route(
            "/api/v1/admin/signup-settings",
            get(get_settings).put(put_settings),
        )
}

#[cfg(test)]
mod tests {
    use super::mask_name;

    #[test]
    fn masks_names() {
        assert_eq!(mask_name("王小明"), "王**");
        assert_eq!(mask_name("Li"), "L*");
        assert_eq!(mask_name("A"), "A*");
        assert_eq!(mask_name(""), "*");
    }
}
