//! Member sign-in by SMS code.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use member_core::civil;
use member_core::dto::{
    codes, ErrorBody, MeView, OtpRequest, OtpSent, SignupFields, VerifyOtpRequest,
};
use member_core::phone::Phone;
use member_core::signup::{self, Ask, Gender};

use crate::auth::store::{otp, sessions};
use crate::db;
use crate::http::error::{name_required, ApiError, ApiResult};
use crate::http::extract::{
    clear_cookie, cookie, session_mac, set_cookie, ClientIp, Json, MEMBER_COOKIE,
    MEMBER_SESSION_SECS,
};
use crate::members::store::members;
use crate::members::views::me_view;
use crate::state::AppState;

const OTP_MAC: &str = "otp";
const NAME_MAX_CHARS: usize = 40;
const CITY_MAX_CHARS: usize = 40;

fn parse_phone(input: &str) -> ApiResult<Phone> {
    Phone::parse(input).map_err(|_| {
        ApiError::BadRequest(
            codes::INVALID_PHONE,
            "请输入有效的中国大陆手机号 / Enter a valid mainland China mobile number".into(),
        )
    })
}

fn otp_mac(state: &AppState, phone: &Phone, code: &str) -> String {
    state
        .secret
        .mac_hex(OTP_MAC, &format!("{}:{code}", phone.as_e164()))
}

/// The SMS, in the language the member reads the app in.
fn otp_text(english: bool, code: &str, minutes: i64) -> String {
    if english {
        format!(
            "[Member Center] Your code is {code}. It is valid for {minutes} minutes. \
             Don't share it with anyone."
        )
    } else {
        format!("【会员中心】验证码 {code}，{minutes} 分钟内有效，请勿告诉他人。")
    }
}

#[utoipa::path(post, path = "/api/v1/auth/otp", tag = "auth",
    request_body = OtpRequest,
    responses(
        (status = 202, description = "Code sent (in dev: to the outbox)", body = OtpSent),
        (status = 400, description = "invalid_phone / invalid_input", body = ErrorBody),
        (status = 429, description = "rate_limited (Retry-After header)", body = ErrorBody),
    ))]
pub async fn send_otp(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(req): Json<OtpRequest>,
) -> ApiResult<(StatusCode, Json<OtpSent>)> {
    let phone = parse_phone(&req.phone)?;
    let english = match req.lang.as_deref() {
        None | Some("zh-CN") => false,
        Some("en") => true,
        Some(_) => {
            return Err(ApiError::invalid_input(
                "lang 须为 zh-CN 或 en / lang must be zh-CN or en",
            ))
        }
    };
    let code = crate::crypto::otp_code();
    let text = otp_text(english, &code, otp::TTL_SECS / 60);
    crate::auth::store::otp::send(
        &state.db,
        otp::Send {
            phone: phone.as_e164(),
            ip: &ip,
            code: &code,
            code_hmac: &otp_mac(&state, &phone, &code),
            text: &text,
            now: state.clock.now(),
            per_ip_per_hour: state.otp_sends_per_ip_hour,
            dev: state.dev,
        },
    )
    .await?;
    if state.dev {
        // Dev only: the code in the log is how a developer signs in without SMS.
        tracing::info!(phone = %phone.masked(), %code, "dev OTP queued in the outbox");
    } else {
        // Never the code: without dev it exists in clear nowhere but in this request.
        tracing::warn!(
            phone = %phone.masked(),
            "OTP stored but not delivered: no SMS gateway is configured"
        );
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(OtpSent {
            resend_after_secs: otp::RESEND_SECS,
            expires_in_secs: otp::TTL_SECS,
        }),
    ))
}

#[utoipa::path(post, path = "/api/v1/auth/verify", tag = "auth",
    request_body = VerifyOtpRequest,
    responses(
        (status = 200, description = "Signed in; sets the mc_member cookie", body = MeView),
        (status = 400, description = "invalid_phone / invalid_code / consent_required / name_required / field_required / invalid_input", body = ErrorBody),
        (status = 410, description = "otp_expired / otp_locked", body = ErrorBody),
    ))]
pub async fn verify(
    State(state): State<AppState>,
    Json(req): Json<VerifyOtpRequest>,
) -> ApiResult<Response> {
    let phone = parse_phone(&req.phone)?;
    let code = req.code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::BadRequest(
            codes::INVALID_CODE,
            "验证码为 6 位数字 / The code has 6 digits".into(),
        ));
    }
    if !req.privacy_consent {
        return Err(ApiError::BadRequest(
            codes::CONSENT_REQUIRED,
            "请先阅读并同意隐私政策 / Please accept the privacy policy".into(),
        ));
    }
    let name = req.name.as_deref().map(str::trim);
    // Postgres refuses NUL in text (a 500 otherwise): control characters are bad input.
    if name.is_some_and(|n| n.chars().any(char::is_control)) {
        return Err(ApiError::invalid_input(
            "姓名含有无效字符 / The name contains invalid characters",
        ));
    }
    let name = name.filter(|n| !n.is_empty() && n.chars().count() <= NAME_MAX_CHARS);
    let now = state.clock.now();
    let settings = crate::signup::store::signup_links::settings(&state.db).await?;
    let profile = joining_profile(&req, &settings.fields, now)?;
    let joining = members::Joining {
        link: crate::signup::http::signup::attribution(&state, req.link.as_deref(), now).await?,
        referral_code: req.referral_code.as_deref(),
        ..profile
    };
    let token = crate::crypto::session_token();
    let signed_in = members::sign_in(
        &state.db,
        members::SignIn {
            phone: phone.as_e164(),
            code_hmac: &otp_mac(&state, &phone, code),
            name,
            marketing_consent: req.marketing_consent,
            session_hmac: &session_mac(&state, &token),
            session_expires_at: now + MEMBER_SESSION_SECS,
            now,
            joining,
        },
    )
    .await
    .map_err(|e| match e {
        db::DbError::NameRequired => name_required(),
        other => other.into(),
    })?;
    let member = members::by_id(&state.db, signed_in.member_id)
        .await?
        .ok_or(ApiError::Internal)?;
    let tiers = crate::tiers::store::tiers::all(&state.db, state.clock.now()).await?;
    let mut view = me_view(&member, &tiers, signed_in.new_member);
    (view.coupons_usable, view.coupons_new) =
        crate::coupons::store::wallet::card_counts(&state.db, member.id, now).await?;
    crate::tiers::http::me::card_tier(&state, &member, &mut view, now).await?;
    let mut response = Json(view).into_response();
    if let Some(v) = set_cookie(MEMBER_COOKIE, &token, MEMBER_SESSION_SECS) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

/// The optional sign-up fields, checked: a malformed value is a 400 whether or not the
/// brand asks for it; a required one that is missing is reported by the db layer, and
/// only for a new member (an existing member goes straight to the card).
fn joining_profile<'a>(
    req: &'a VerifyOtpRequest,
    fields: &SignupFields,
    now: i64,
) -> ApiResult<members::Joining<'a>> {
    let given = |v: &'a Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty());
    let birthday = match given(&req.birthday) {
        Some(b) => Some(
            signup::parse_birthday(b, civil::local_date(now)).ok_or_else(|| {
                ApiError::invalid_input(
                    "生日须为有效日期 YYYY-MM-DD / birthday must be a date YYYY-MM-DD",
                )
            })?,
        ),
        None => None,
    };
    let gender = match given(&req.gender) {
        Some(g) => Some(
            Gender::parse(g)
                .ok_or_else(|| {
                    ApiError::invalid_input(
                        "gender 须为 female、male 或 other / gender must be female, male or other",
                    )
                })?
                .as_str(),
        ),
        None => None,
    };
    let city = match given(&req.city) {
        Some(_) => Some(
            req.city
                .as_deref()
                .map(str::trim)
                .filter(|c| signup::clean_text(c, CITY_MAX_CHARS).is_some())
                .ok_or_else(|| {
                    ApiError::invalid_input("城市最多 40 个字 / city: at most 40 characters")
                })?,
        ),
        None => None,
    };
    let required = |ask: &str| Ask::parse(ask) == Some(Ask::Required);
    let missing = [
        ("birthday", required(&fields.birthday) && birthday.is_none()),
        ("gender", required(&fields.gender) && gender.is_none()),
        ("city", required(&fields.city) && city.is_none()),
    ]
    .into_iter()
    .find_map(|(f, m)| m.then_some(f));
    Ok(members::Joining {
        birthday,
        gender,
        city,
        missing,
        ..Default::default()
    })
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204, description = "Signed out; clears the mc_member cookie")))]
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(token) = cookie(&headers, MEMBER_COOKIE) {
        sessions::delete(
            &state.db,
            &session_mac(&state, token),
            sessions::Kind::Member,
        )
        .await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Some(v) = clear_cookie(MEMBER_COOKIE) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

/// The routes this file answers.
pub fn routes() -> axum::Router<crate::state::AppState> {
    use axum::routing::post;
    axum::Router::new()
        .route("/api/v1/auth/otp", post(send_otp))
        .route("/api/v1/auth/verify", post(verify))
        .route("/api/v1/auth/logout", post(logout))
}
