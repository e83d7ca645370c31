//! Extractors: JSON bodies with our error shape, sessions, Idempotency-Key, client IP.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::auth::store::sessions::{self, Kind};
use crate::http::error::ApiError;
use crate::staff::store as staff;
use crate::staff::store::StaffRow;
use crate::state::AppState;

pub const MEMBER_COOKIE: &str = "mc_member";
pub const STAFF_COOKIE: &str = "mc_staff";
pub const MEMBER_SESSION_SECS: i64 = 30 * 86_400;
pub const STAFF_SESSION_SECS: i64 = 12 * 3_600;
const SESSION_MAC: &str = "session";
const MAX_IDEMPOTENCY_KEY: usize = 100;

/// `axum::Json`, except that every rejection is our JSON error (400 `invalid_input`,
/// 413 for oversize bodies) instead of axum's plain text.
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(value) = axum::Json::<T>::from_request(req, state).await?;
        Ok(Self(value))
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `axum::extract::Path`, except that a rejection (a segment that isn't valid UTF-8 or
/// doesn't parse as the wanted type) is our JSON error: 404 for an id that can't exist,
/// instead of axum's plain-text 400.
pub struct Path<T>(pub T);

impl<S, T> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            Err(_) => Err(ApiError::NotFound),
        }
    }
}

/// The client's address: the peer, or behind a proxy listed in `TRUSTED_PROXIES` the
/// client it forwards for (resolved by `edge::guard`). What any other peer writes in
/// `X-Forwarded-For` is ignored, so spoofing it cannot escape the per-IP limits.
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let resolved = parts
            .extensions
            .get::<crate::http::edge_config::Client>()
            .and_then(|c| c.ip);
        let peer = || {
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip())
        };
        Ok(Self(resolved.or_else(peer).map_or_else(
            || "unknown".to_string(),
            |ip| ip.to_string(),
        )))
    }
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

pub fn session_mac(state: &AppState, token: &str) -> String {
    state.secret.mac_hex(SESSION_MAC, token)
}

/// `Set-Cookie` for a session. `edge::guard` adds `Secure` when the client reached us over
/// HTTPS (an https `PUBLIC_URL`, or a trusted proxy's `X-Forwarded-Proto`): the server
/// itself speaks plain HTTP behind the proxy that ends TLS.
pub fn set_cookie(name: &str, token: &str, max_age: i64) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "{name}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}"
    ))
    .ok()
}

pub fn clear_cookie(name: &str) -> Option<HeaderValue> {
    set_cookie(name, "", 0)
}

/// A signed-in member (from the `mc_member` cookie only: a staff cookie is not enough).
pub struct MemberSession {
    pub member_id: i64,
}

impl FromRequestParts<AppState> for MemberSession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = cookie(&parts.headers, MEMBER_COOKIE).ok_or(ApiError::Unauthenticated)?;
        let mac = session_mac(state, token);
        sessions::subject(&state.db, &mac, Kind::Member, state.clock.now())
            .await?
            .map(|member_id| Self { member_id })
            .ok_or(ApiError::Unauthenticated)
    }
}

/// A signed-in staff account (from the `mc_staff` cookie only).
pub struct StaffSession {
    pub staff: StaffRow,
    /// The session's cookie token, HMAC'd: says "this session" without the token itself
    /// (look-up tokens and rate limits per staff session).
    pub session_mac: String,
}

impl StaffSession {
    pub fn is_admin(&self) -> bool {
        self.staff.role == "admin"
    }

    /// The account's store (id, code): purchases and checkout belong to a store.
    pub fn store(&self) -> Result<(i64, &str), ApiError> {
        match (self.staff.store_id, self.staff.store_code.as_deref()) {
            (Some(id), Some(code)) => Ok((id, code)),
            _ => Err(ApiError::Forbidden(
                member_core::dto::codes::STORE_REQUIRED,
                "该账号未绑定门店，不能记录消费 / This account has no store".into(),
            )),
        }
    }
}

/// A signed-in admin: any other staff account is refused (403) before the handler runs.
pub struct AdminSession(pub StaffSession);

impl std::ops::Deref for AdminSession {
    type Target = StaffSession;

    fn deref(&self) -> &StaffSession {
        &self.0
    }
}

impl FromRequestParts<AppState> for AdminSession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let session = StaffSession::from_request_parts(parts, state).await?;
        if !session.is_admin() {
            return Err(ApiError::Forbidden(
                member_core::dto::codes::FORBIDDEN,
                "需要管理员权限 / Admin role required".into(),
            ));
        }
        Ok(Self(session))
    }
}

impl FromRequestParts<AppState> for StaffSession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = cookie(&parts.headers, STAFF_COOKIE).ok_or(ApiError::Unauthenticated)?;
        let mac = session_mac(state, token);
        staff::by_session(&state.db, &mac, state.clock.now())
            .await?
            .map(|staff| Self {
                staff,
                session_mac: mac,
            })
            .ok_or(ApiError::Unauthenticated)
    }
}

/// The `Idempotency-Key` header: required, 1..=100 visible ASCII characters.
pub struct IdempotencyKey(pub String);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let required = || {
            ApiError::BadRequest(
                member_core::dto::codes::IDEMPOTENCY_KEY_REQUIRED,
                format!(
                    "需要 Idempotency-Key 请求头（1–{MAX_IDEMPOTENCY_KEY} 个可见 ASCII 字符）/ \
                     Idempotency-Key header required (1–{MAX_IDEMPOTENCY_KEY} visible ASCII characters)"
                ),
            )
        };
        let value = parts
            .headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .ok_or_else(required)?;
        if value.is_empty()
            || value.len() > MAX_IDEMPOTENCY_KEY
            || !value.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(required());
        }
        Ok(Self(value.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_one_cookie_among_many() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; mc_member=tok; b=2"),
        );
        assert_eq!(cookie(&h, MEMBER_COOKIE), Some("tok"));
        assert_eq!(cookie(&h, STAFF_COOKIE), None);
        h.insert(header::COOKIE, HeaderValue::from_static("mc_member="));
        assert_eq!(cookie(&h, MEMBER_COOKIE), None);
    }
}
