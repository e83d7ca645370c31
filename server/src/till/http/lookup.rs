//! Finding a member who can't show a card: the cashier types the full phone number or
//! the member number, sees name and masked phone to confirm, and gets a short-lived
//! look-up token. With it (and the member number) the purchase and its preview stand
//! in for a card code, in this staff session only. Every look-up is audited; look-ups
//! are rate-limited per staff session and per store, so a till can't walk the list.

use axum::extract::State;
use member_core::card_code::{parse_code, ParsedCode};
use member_core::dto::{codes, ErrorBody, MemberLookupRequest, MemberLookupResult};
use member_core::phone::MemberQuery;

use crate::db::audit;
use crate::db::limits::{self, Window};
use crate::http::error::{card_code, wait_text, ApiError, ApiResult};
use crate::http::extract::{Json, StaffSession};
use crate::members::store::members;
use crate::members::views::member_summary;
use crate::state::AppState;

/// Long enough to enter the amount and tick coupons, short enough that an old token
/// found later on the till is worthless.
pub const LOOKUP_TOKEN_SECS: i64 = 5 * 60;
const LOOKUP_WINDOW_SECS: i64 = 10 * 60;
/// A till that serves a queue of card-less members needs a few a minute at most.
const MAX_LOOKUPS_PER_SESSION: i64 = 20;
/// Several tills of one store together.
const MAX_LOOKUPS_PER_STORE: i64 = 60;
const TOKEN_PURPOSE: &str = "staff-lookup";

/// How a look-up found the member (in the token, so the purchase's audit says it too).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Phone,
    MemberNo,
}

impl Method {
    fn tag(self) -> &'static str {
        match self {
            Self::Phone => "p",
            Self::MemberNo => "n",
        }
    }

    fn from_tag(tag: &str) -> Option<Self> {
        match tag {
            "p" => Some(Self::Phone),
            "n" => Some(Self::MemberNo),
            _ => None,
        }
    }

    pub fn audit_text(self) -> &'static str {
        match self {
            Self::Phone => "looked up by phone",
            Self::MemberNo => "looked up by member number",
        }
    }
}

fn token_mac(state: &AppState, session_mac: &str, member_no: &str, exp: i64, m: Method) -> String {
    state.secret.mac_hex(
        TOKEN_PURPOSE,
        &format!("{session_mac}\n{member_no}\n{exp}\n{}", m.tag()),
    )
}

fn issue(state: &AppState, session_mac: &str, member_no: &str, exp: i64, m: Method) -> String {
    format!(
        "{exp}.{}.{}",
        m.tag(),
        token_mac(state, session_mac, member_no, exp, m)
    )
}

fn lookup_required() -> ApiError {
    ApiError::Forbidden(
        codes::LOOKUP_REQUIRED,
        "请先查找会员并确认 / Look the member up and confirm first".into(),
    )
}

/// Checks a look-up token against this session and member: the MAC first (another
/// session's or another member's token is simply not valid), then its age.
fn check_token(
    state: &AppState,
    session_mac: &str,
    member_no: &str,
    token: &str,
    now: i64,
) -> ApiResult<Method> {
    let mut parts = token.splitn(3, '.');
    let (Some(exp), Some(tag), Some(mac)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(lookup_required());
    };
    let exp: i64 = exp.parse().map_err(|_| lookup_required())?;
    let method = Method::from_tag(tag).ok_or_else(lookup_required)?;
    let expected = token_mac(state, session_mac, member_no, exp, method);
    if !crate::crypto::eq_ct(&expected, mac) {
        return Err(lookup_required());
    }
    if exp <= now {
        return Err(ApiError::Gone(
            codes::LOOKUP_EXPIRED,
            "查找已过期，请重新查找会员 / The look-up has expired: look the member up again".into(),
        ));
    }
    Ok(method)
}

/// Who a purchase or preview is for: a card code, or a member looked up just before.
pub enum Identified {
    Card(ParsedCode),
    LookedUp { member_no: String, method: Method },
}

impl Identified {
    pub fn member_no(&self) -> &str {
        match self {
            Self::Card(c) => &c.member_no,
            Self::LookedUp { member_no, .. } => member_no,
        }
    }

    pub fn totp(&self) -> Option<u32> {
        match self {
            Self::Card(c) => Some(c.totp),
            Self::LookedUp { .. } => None,
        }
    }

    pub fn audit_text(&self) -> &'static str {
        match self {
            Self::Card(_) => "card code",
            Self::LookedUp { method, .. } => method.audit_text(),
        }
    }
}

/// The one place that says how a request names its member: `code`, or `member_no` with
/// this session's `lookup_token` for that member (never both).
pub fn identify(
    state: &AppState,
    session: &StaffSession,
    code: &str,
    member_no: Option<&str>,
    lookup_token: Option<&str>,
) -> ApiResult<Identified> {
    let member_no = member_no.map(str::trim).filter(|s| !s.is_empty());
    match (member_no, code.trim().is_empty()) {
        (None, _) => {
            if lookup_token.is_some() {
                return Err(ApiError::invalid_input(
                    "lookup_token 需与 member_no 一起使用 / lookup_token goes with member_no",
                ));
            }
            parse_code(code).map(Identified::Card).map_err(card_code)
        }
        (Some(_), false) => Err(ApiError::invalid_input(
            "code 与 member_no 只能给一个 / Give either code or member_no",
        )),
        (Some(no), true) => {
            let token = lookup_token.ok_or_else(lookup_required)?;
            let method = check_token(state, &session.session_mac, no, token, state.clock.now())?;
            Ok(Identified::LookedUp {
                member_no: no.to_string(),
                method,
            })
        }
    }
}

#[utoipa::path(post, path = "/api/v1/staff/members/lookup", tag = "staff",
    request_body = MemberLookupRequest,
    responses(
        (status = 200, description = "The member (name, masked phone) and a look-up token for this staff session, valid 5 minutes: purchases and previews take `member_no` + `lookup_token` in place of `code`. Audited", body = MemberLookupResult),
        (status = 400, description = "invalid_input (not a full phone number or 10-digit member number)", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "store_required", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 429, description = "rate_limited (20 look-ups per staff session and 60 per store in 10 minutes)", body = ErrorBody),
    ))]
pub async fn lookup(
    State(state): State<AppState>,
    session: StaffSession,
    Json(req): Json<MemberLookupRequest>,
) -> ApiResult<Json<MemberLookupResult>> {
    let (store_id, _) = session.store()?;
    let query = MemberQuery::parse(&req.query).ok_or_else(|| {
        ApiError::invalid_input(
            "请输入完整的 11 位手机号或 10 位会员号 / Enter the full 11-digit phone number or the 10-digit member number",
        )
    })?;
    let now = state.clock.now();
    let by_session = Window {
        secs: LOOKUP_WINDOW_SECS,
        max: MAX_LOOKUPS_PER_SESSION,
    };
    let by_store = Window {
        secs: LOOKUP_WINDOW_SECS,
        max: MAX_LOOKUPS_PER_STORE,
    };
    let session_key = format!("lookup-session:{}", session.session_mac);
    let store_key = format!("lookup-store:{store_id}");
    let mut tx = state.db.begin_write().await?;
    // Every look-up counts, found or not: misses are how a list would be walked.
    for (key, window) in [(&session_key, &by_session), (&store_key, &by_store)] {
        if let Err(retry_after_secs) = limits::claim(&mut tx, key, window, now).await? {
            return Err(ApiError::RateLimited {
                retry_after_secs,
                message: format!("查找会员过于频繁，{}", wait_text(retry_after_secs)),
            });
        }
    }
    let (found, method) = match &query {
        MemberQuery::Phone(phone) => (
            members::scanned_by_phone(&state.db, phone.as_e164()).await?,
            Method::Phone,
        ),
        MemberQuery::MemberNo(no) => (members::scanned(&state.db, no).await?, Method::MemberNo),
    };
    let Some(scanned) = found else {
        tx.commit().await.map_err(crate::db::DbError::from)?;
        return Err(ApiError::NotFound);
    };
    let summary = member_summary(&scanned.member, &scanned.tier_name);
    audit::record(
        &mut tx,
        &format!("staff:{}", session.staff.username),
        "member.lookup",
        &format!("member:{}", summary.member_no),
        &format!(
            "{} store_id={store_id} phone={}",
            method.audit_text(),
            summary.phone_masked
        ),
        now,
    )
    .await?;
    tx.commit().await.map_err(crate::db::DbError::from)?;
    let exp = now + LOOKUP_TOKEN_SECS;
    Ok(Json(MemberLookupResult {
        lookup_token: issue(
            &state,
            &session.session_mac,
            &summary.member_no,
            exp,
            method,
        ),
        member: summary,
        expires_in_secs: LOOKUP_TOKEN_SECS,
    }))
}

/// The routes this file answers.
pub fn routes() -> axum::Router<crate::state::AppState> {
    use axum::routing::post;
    axum::Router::new().route("/api/v1/staff/members/lookup", post(lookup))
}
