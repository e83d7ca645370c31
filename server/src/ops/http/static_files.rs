//! The built web app: `dist/` with SPA fallback (member app at `/`, staff app at
//! `/staff/`, points mall at `/mall/` and also `/coupons`, `/claim`, `/profile`), long-lived caching for content-hashed assets,
//! no-cache for the rest.

use std::convert::Infallible;
use std::path::Path;

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

/// `GET` service for everything that is not an API route.
pub fn service(
    dir: &Path,
) -> impl tower::Service<Request, Response = Response, Error = Infallible, Future: Send>
       + Clone
       + Send
       + Sync
       + 'static {
    let root = dir.to_path_buf();
    let spa = tower::service_fn(move |req: Request| {
        let root = root.clone();
        async move {
            let path = req.uri().path();
            let last = path.rsplit('/').next().unwrap_or_default();
            // A missing asset stays a 404; only page routes fall back to the app.
            if path.starts_with("/api/") || last.contains('.') {
                return Ok::<_, Infallible>(StatusCode::NOT_FOUND.into_response());
            }
            let index = match app_of(path) {
                Some(app) => root.join(app).join("index.html"),
                None => root.join("index.html"),
            };
            let response = ServeFile::new(index)
                .precompressed_br()
                .precompressed_gzip()
                .oneshot(req)
                .await;
            Ok(match response {
                Ok(r) => r.into_response(),
                Err(never) => match never {},
            })
        }
    });
    ServeDir::new(dir)
        .precompressed_br()
        .precompressed_gzip()
        .append_index_html_on_directories(true)
        .fallback(spa)
        .map_response(IntoResponse::into_response)
}

/// Page paths (first segment) served by a bundle in its own folder of `dist/`. The coupon
/// wallet, claim links, the profile and the tier screens are screens of the mall bundle, at short paths
/// (a claim link is printed as a QR code).
const APPS: [(&str, &str); 11] = [
    ("staff", "staff"),
    ("mall", "mall"),
    ("coupons", "mall"),
    ("claim", "mall"),
    ("profile", "mall"),
    ("tiers", "mall"),
    ("growth", "mall"),
    ("points", "mall"),
    ("inbox", "mall"),
    ("join", "mall"),
    ("invite", "mall"),
];

/// The bundle under its own folder of `dist/` that serves `path`, if not the member app.
fn app_of(path: &str) -> Option<&'static str> {
    APPS.into_iter()
        .find(|(prefix, _)| {
            path.strip_prefix('/')
                .and_then(|p| p.strip_prefix(prefix))
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
        .map(|(_, app)| app)
}

/// True for names like `member-center-4f3b2a1c9d8e7f60_bg.wasm` or `app-1a2b3c4d.css`:
/// a hex run of 8+ characters after a dash means the name changes with the content.
pub fn is_hashed_asset(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    name.split(['-', '.', '_'])
        .skip(1)
        .any(|part| part.len() >= 8 && part.bytes().all(|b| b.is_ascii_hexdigit()))
}

pub fn cache_control(path: &str, response: &Response) -> HeaderValue {
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if response.status().is_success() && !html && is_hashed_asset(path) {
        HeaderValue::from_static("public, max-age=31536000, immutable")
    } else {
        HeaderValue::from_static("no-cache")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_routes_fall_back_to_their_own_app() {
        assert_eq!(app_of("/staff"), Some("staff"));
        assert_eq!(app_of("/staff/orders/ABCDEFGHJK"), Some("staff"));
        assert_eq!(app_of("/mall/"), Some("mall"));
        assert_eq!(app_of("/mall/orders/ABCDEFGHJK"), Some("mall"));
        assert_eq!(app_of("/mall"), Some("mall"));
        assert_eq!(app_of("/mallard"), None);
        assert_eq!(app_of("/points"), Some("mall"));
        assert_eq!(app_of("/"), None);
    }

    #[test]
    fn wallet_claim_and_profile_are_the_malls() {
        assert_eq!(app_of("/coupons"), Some("mall"));
        assert_eq!(app_of("/tiers"), Some("mall"));
        assert_eq!(app_of("/inbox"), Some("mall"));
        assert_eq!(app_of("/coupons/"), Some("mall"));
        assert_eq!(app_of("/coupons/used"), Some("mall"));
        assert_eq!(app_of("/coupons/42"), Some("mall"));
        assert_eq!(app_of("/claim/K7M2P9QRSTUVWXYZ"), Some("mall"));
        assert_eq!(app_of("/profile"), Some("mall"));
        assert_eq!(app_of("/profile/"), Some("mall"));
        assert_eq!(app_of("/couponsx"), None);
        assert_eq!(app_of("/claims"), None);
        assert_eq!(app_of("/profiles"), None);
    }

    #[test]
    fn recognises_trunk_hashed_names() {
        assert!(is_hashed_asset("/member-center-4f3b2a1c9d8e7f60_bg.wasm"));
        assert!(is_hashed_asset("/staff/staff-0123456789abcdef.js"));
        assert!(is_hashed_asset("/style-1a2b3c4d.css"));
        assert!(!is_hashed_asset("/index.html"));
        assert!(!is_hashed_asset("/manifest.webmanifest"));
        assert!(!is_hashed_asset("/sw.js"));
        assert!(!is_hashed_asset("/icon-192.png"));
    }

    /// The member app's service worker must be revalidated, or a deploy of a new worker
    /// would wait for the browser's own 24 h update check.
    #[test]
    fn service_worker_is_not_cached() {
        let mut response = Response::new(axum::body::Body::empty());
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/javascript"),
        );
        assert_eq!(cache_control("/sw.js", &response), "no-cache");
    }
}
