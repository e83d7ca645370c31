//! Around every request: who the client is (behind the proxies we trust), the cross-site
//! check for requests that carry a session cookie, and the security headers on every
//! answer (CSP, frame policy, `Secure` cookies and HSTS over HTTPS).

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use member_core::dto::codes;
use member_core::edge::{self as rules};

use crate::http::edge_config::API_CSP;
use crate::http::edge_config::{Client, Edge};
use crate::http::error::ApiError;
use crate::http::extract::{cookie, MEMBER_COOKIE, STAFF_COOKIE};
use crate::state::AppState;

const HSTS: &str = "max-age=31536000";

fn values<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Vec<&'a str> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect()
}

fn resolve(edge: &Edge, peer: Option<IpAddr>, headers: &HeaderMap) -> Client {
    let Some(peer) = peer else {
        return Client {
            ip: None,
            https: edge.public_https,
        };
    };
    let forwarded = values(headers, &header::FORWARDED);
    let xff = values(headers, &HeaderName::from_static("x-forwarded-for"));
    let xfp = values(headers, &HeaderName::from_static("x-forwarded-proto"));
    Client {
        ip: Some(rules::client_addr(
            peer,
            &edge.trusted_proxies,
            &xff,
            &forwarded,
        )),
        https: edge.public_https
            || rules::forwarded_https(peer, &edge.trusted_proxies, &xfp, &forwarded),
    }
}

/// A state-changing request with a session cookie whose `Origin` (or, without one, its
/// `Referer`) is another site: a cross-site form or fetch riding on the cookie. A
/// request with neither header is no browser's (browsers send `Origin` on every POST)
/// and carries no ambient credentials we need to guard.
fn cross_site(state: &AppState, req: &Request) -> bool {
    if matches!(
        *req.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    ) {
        return false;
    }
    let headers = req.headers();
    if cookie(headers, MEMBER_COOKIE).is_none() && cookie(headers, STAFF_COOKIE).is_none() {
        return false;
    }
    let claimed = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER));
    let Some(claimed) = claimed else {
        return false;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()));
    !claimed
        .to_str()
        .is_ok_and(|o| rules::is_own_origin(o, state.public_url.as_deref(), host))
}

pub async fn guard(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let client = resolve(&state.edge, peer, req.headers());
    req.extensions_mut().insert(client);
    let api = is_api(req.uri().path());
    let mut response = if cross_site(&state, &req) {
        ApiError::Forbidden(
            codes::CROSS_ORIGIN,
            "请从本站页面操作 / Requests from other sites are refused".into(),
        )
        .into_response()
    } else {
        next.run(req).await
    };
    secure(&state.edge, api, client.https, response.headers_mut());
    response
}

fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/") || path == "/healthz" || path == "/metrics"
}

fn secure(edge: &Edge, api: bool, https: bool, headers: &mut HeaderMap) {
    let set = |headers: &mut HeaderMap, name: HeaderName, value: HeaderValue| {
        if !headers.contains_key(&name) {
            headers.insert(name, value);
        }
    };
    set(
        headers,
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    set(
        headers,
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    // Keeps other sites from framing the card or the till (clickjacking). The WeChat
    // in-app browser is not a frame: it opens a shared link top-level, so this does not
    // get in its way.
    set(
        headers,
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static(if api { "DENY" } else { "SAMEORIGIN" }),
    );
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        if api {
            HeaderValue::from_static(API_CSP)
        } else {
            edge.app_csp.clone()
        },
    );
    if https {
        set(
            headers,
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
        // The session cookies are set by the handlers without knowing how the client
        // reached us; over HTTPS they must never travel in clear.
        let cookies: Vec<HeaderValue> = headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| match v.to_str() {
                Ok(s) if !has_secure(s) => {
                    HeaderValue::from_str(&format!("{s}; Secure")).unwrap_or_else(|_| v.clone())
                }
                _ => v.clone(),
            })
            .collect();
        if !cookies.is_empty() {
            headers.remove(header::SET_COOKIE);
            for c in cookies {
                headers.append(header::SET_COOKIE, c);
            }
        }
    }
}

fn has_secure(cookie: &str) -> bool {
    cookie
        .split(';')
        .skip(1)
        .any(|attr| attr.trim().eq_ignore_ascii_case("secure"))
}

/// `Authorization: Bearer <token>` against the configured token, in constant time.
pub fn metrics_authorized(token: &str, headers: &HeaderMap) -> bool {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .trim();
    let (a, b) = (given.as_bytes(), token.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn secure_is_added_once() {
        let edge = Edge::default();
        let mut h = HeaderMap::new();
        h.append(
            header::SET_COOKIE,
            HeaderValue::from_static("mc_member=x; Path=/; HttpOnly"),
        );
        h.append(
            header::SET_COOKIE,
            HeaderValue::from_static("other=y; Secure"),
        );
        secure(&edge, true, true, &mut h);
        let cookies: Vec<_> = h.get_all(header::SET_COOKIE).iter().collect();
        assert_eq!(cookies[0], "mc_member=x; Path=/; HttpOnly; Secure");
        assert_eq!(cookies[1], "other=y; Secure");
        assert_eq!(h[header::STRICT_TRANSPORT_SECURITY], HSTS);
    }

    #[test]
    fn metrics_token_must_match_exactly() {
        let mut h = HeaderMap::new();
        assert!(!metrics_authorized("t0ken", &h));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer t0ken"),
        );
        assert!(metrics_authorized("t0ken", &h));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer t0ke"),
        );
        assert!(!metrics_authorized("t0ken", &h));
    }
}
