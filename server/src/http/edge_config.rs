//! What the edge (`edge::guard`) works from, fixed at start: the proxies we trust, the
//! public scheme, the pages' content security policy; and the client it resolves.

use std::net::IpAddr;
use std::path::Path;

use axum::http::HeaderValue;
use member_core::edge::{self as rules, Cidr, InlineHashes};

/// The API answers only JSON, SVG/PNG images and text: nothing in it may run, load or be
/// framed.
pub const API_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
/// Where the HTML pages look for inline scripts and styles to allow by hash.
const MAX_HTML_DEPTH: usize = 4;

/// What the edge needs, fixed at start.
#[derive(Debug, Clone)]
pub struct Edge {
    pub trusted_proxies: Vec<Cidr>,
    /// `PUBLIC_URL` is https: every answer is, whatever the proxy says.
    pub public_https: bool,
    /// The policy of the pages and their assets, with the hashes of the built pages'
    /// inline scripts.
    pub app_csp: HeaderValue,
    /// `/metrics` on the main address answers only `Authorization: Bearer <token>`.
    pub metrics_token: Option<String>,
    /// `/metrics` has its own address (`METRICS_BIND`): the main one does not serve it.
    pub metrics_elsewhere: bool,
}

impl Default for Edge {
    fn default() -> Self {
        Self {
            trusted_proxies: Vec::new(),
            public_https: false,
            app_csp: HeaderValue::from_static(API_CSP),
            metrics_token: None,
            metrics_elsewhere: false,
        }
    }
}

impl Edge {
    pub fn new(
        trusted_proxies: Vec<Cidr>,
        public_url: Option<&str>,
        static_dir: &Path,
        metrics_token: Option<String>,
        metrics_elsewhere: bool,
    ) -> Self {
        let public_https = public_url
            .and_then(rules::origin_of)
            .is_some_and(|o| o.starts_with("https://"));
        // Read once: a new build of dist/ comes with a restart (deploy), and its pages'
        // inline scripts with it.
        let hashes = page_hashes(static_dir);
        let app_csp = HeaderValue::from_str(&app_policy(&hashes)).unwrap_or_else(|e| {
            tracing::error!(error = %e, "content security policy not a header value");
            HeaderValue::from_static(API_CSP)
        });
        Self {
            trusted_proxies,
            public_https,
            app_csp,
            metrics_token: metrics_token.filter(|t| !t.is_empty()),
            metrics_elsewhere,
        }
    }
}

/// The hashes of the inline scripts of every page in `dir` (`index.html`, `staff/`,
/// `mall/`, `unsupported.html`, ...). One policy for all pages: they share the loader's
/// feature check, and a page's policy may as well allow its siblings' few scripts.
fn page_hashes(dir: &Path) -> InlineHashes {
    let mut all = InlineHashes::default();
    let mut pending = vec![(dir.to_path_buf(), 0)];
    while let Some((folder, depth)) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if depth < MAX_HTML_DEPTH {
                    pending.push((path, depth + 1));
                }
            } else if path.extension().is_some_and(|e| e == "html") {
                match std::fs::read_to_string(&path) {
                    Ok(html) => {
                        let found = rules::inline_hashes(&html);
                        all.scripts.extend(found.scripts);
                        all.styles.extend(found.styles);
                    }
                    Err(e) => {
                        tracing::warn!(path = %path.display(), error = %e, "page not read for its CSP hashes");
                    }
                }
            }
        }
    }
    all.scripts.sort();
    all.scripts.dedup();
    all.styles.sort();
    all.styles.dedup();
    all
}

fn app_policy(hashes: &InlineHashes) -> String {
    let scripts = hashes.scripts.join(" ");
    // Styles: files, and the pages' own `<style>` blocks (Trunk inlines the member app's
    // CSS) by hash. Leptos sets run-time styles through the CSSOM (`style:width`,
    // `style=(name, value)`), which the policy does not cover; a `style="…"` attribute in
    // a view would be refused.
    let styles = hashes.styles.join(" ");
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' {scripts}; \
         style-src 'self' {styles}; img-src 'self' data: blob:; connect-src 'self'; \
         font-src 'self'; manifest-src 'self'; worker-src 'self'; object-src 'none'; \
         base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
    )
}

/// The client of a request as the edge resolved it.
#[derive(Debug, Clone, Copy)]
pub struct Client {
    pub ip: Option<IpAddr>,
    pub https: bool,
}
