//! The edge: client addresses behind trusted proxies, cross-site requests riding on a
//! session cookie, body types, security headers, `Secure` cookies and HSTS, and who may
//! read /metrics.

use std::net::IpAddr;
use std::time::Duration;

use member_server::Config;
use reqwest::{RequestBuilder, Response, StatusCode};
use serde_json::json;

use crate::common::{
    assert_error, json_ok, phone, set_cookie_headers, Client, TestApp, INDEX_INLINE_SCRIPT_HASH,
    INDEX_INLINE_STYLE_HASH,
};

/// Every test here needs its own server settings: `name => configure`.
macro_rules! configured {
    ($($name:ident => $configure:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    $crate::common::run_with(
                        $crate::common::Backend::Sqlite, super::$configure, super::$name,
                    ).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    $crate::common::run_with(
                        $crate::common::Backend::Postgres, super::$configure, super::$name,
                    ).await;
                }
            )*
        }
    };
}

configured!(
    forwarded_for_counts_only_from_a_trusted_proxy => behind_proxy,
    cross_site_posts_with_a_session_cookie_are_refused => plain,
    same_site_and_headerless_requests_still_work => plain,
    own_origin_is_the_public_url_when_set => https_public_url,
    the_import_reads_only_csv => plain,
    pages_and_api_answers_carry_security_headers => plain,
    cookies_are_secure_with_an_https_public_url => https_public_url,
    cookies_are_secure_when_a_trusted_proxy_says_https => behind_proxy,
    metrics_are_not_public => no_metrics_settings,
    metrics_answer_the_token => metrics_token,
    metrics_have_their_own_address => metrics_bind,
    metrics_on_their_own_address_still_ask_for_the_token => metrics_bind_and_token,
);

/// The address the tests' "proxy" connects from (all of 127/8 is loopback on Linux).
const PROXY: &str = "127.0.0.2";
const EVIL: &str = "https://evil.example";
const TOKEN: &str = "prom-token-0123456789";

fn plain(_: &mut Config) {}

fn behind_proxy(cfg: &mut Config) {
    cfg.trusted_proxies = member_core::edge::parse_cidrs(&format!("{PROXY}/32")).unwrap();
    cfg.otp_sends_per_ip_hour = 2;
}

fn https_public_url(cfg: &mut Config) {
    cfg.public_url = Some("https://vip.brand.cn".into());
}

fn no_metrics_settings(cfg: &mut Config) {
    cfg.metrics_token = None;
    cfg.metrics_bind = None;
}

fn metrics_token(cfg: &mut Config) {
    cfg.metrics_token = Some(TOKEN.into());
}

fn metrics_bind(cfg: &mut Config) {
    cfg.metrics_token = None;
    cfg.metrics_bind = Some("127.0.0.1:0".parse().unwrap());
}

fn metrics_bind_and_token(cfg: &mut Config) {
    cfg.metrics_token = Some(TOKEN.into());
    cfg.metrics_bind = Some("127.0.0.1:0".parse().unwrap());
}

/// A client whose connections come from `from` (a loopback address).
fn client_from(app: &TestApp, from: &str) -> Client {
    Client {
        http: reqwest::Client::builder()
            .cookie_store(true)
            .local_address(from.parse::<IpAddr>().unwrap())
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap(),
        base: app.base.clone(),
    }
}

async fn send_otp(c: &Client, n: u32, forwarded_for: &str) -> StatusCode {
    c.http
        .post(format!("{}/api/v1/auth/otp", c.base))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({ "phone": phone(n) }))
        .send()
        .await
        .unwrap()
        .status()
}

async fn forwarded_for_counts_only_from_a_trusted_proxy(app: TestApp) {
    // A direct client (not a trusted proxy) writing other addresses: one budget (2/h).
    let direct = client_from(&app, "127.0.0.1");
    assert_eq!(
        send_otp(&direct, 1, "198.51.100.1").await,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        send_otp(&direct, 2, "198.51.100.2").await,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        send_otp(&direct, 3, "198.51.100.3").await,
        StatusCode::TOO_MANY_REQUESTS
    );

    // Through the trusted proxy every client has its own budget: one client using it
    // up does not block the next.
    let proxy = client_from(&app, PROXY);
    assert_eq!(
        send_otp(&proxy, 4, "203.0.113.1").await,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        send_otp(&proxy, 5, "203.0.113.1").await,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        send_otp(&proxy, 6, "203.0.113.1").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        send_otp(&proxy, 7, "6.6.6.6, 203.0.113.2").await,
        StatusCode::ACCEPTED
    );
    // What the client wrote left of the proxy's entry does not buy a new budget.
    assert_eq!(
        send_otp(&proxy, 8, "203.0.113.2, 203.0.113.1").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // The per-phone limits still hold: phone 7 again at once is too soon.
    assert_eq!(
        send_otp(&proxy, 7, "203.0.113.9").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    let ip_of = |n: u32| {
        format!(
            "SELECT COUNT(*) FROM otp_sends WHERE phone = '+86{}' AND ip = '{}'",
            phone(n),
            match n {
                1 | 2 => "127.0.0.1",
                4 | 5 => "203.0.113.1",
                _ => "203.0.113.2",
            }
        )
    };
    for n in [1, 2, 4, 5, 7] {
        assert_eq!(app.db.scalar_i64(&ip_of(n)).await, 1, "phone {n}");
    }
}

fn with_origin(req: RequestBuilder, origin: Option<&str>) -> RequestBuilder {
    match origin {
        Some(o) => req.header("origin", o),
        None => req,
    }
}

/// A POST the way a cross-site `<form enctype="text/plain">` sends it: no preflight.
async fn form_post(c: &Client, path: &str, origin: Option<&str>, body: &str) -> Response {
    with_origin(c.http.post(format!("{}{path}", c.base)), origin)
        .header("content-type", "text/plain")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

async fn members(app: &TestApp) -> i64 {
    app.db.scalar_i64("SELECT COUNT(*) FROM members").await
}

const CSV: &str = "phone,name,points\n13912345678,攻击,99999\n";

async fn cross_site_posts_with_a_session_cookie_are_refused(app: TestApp) {
    let admin = app.admin_login().await;
    let before = members(&app).await;
    for origin in [EVIL, "null", "http://127.0.0.1:1"] {
        assert_error(
            form_post(&admin, "/api/v1/admin/imports", Some(origin), CSV).await,
            StatusCode::FORBIDDEN,
            "cross_origin",
        )
        .await;
    }
    // The right type from the wrong site is refused all the same.
    let resp = admin
        .http
        .post(format!("{}/api/v1/admin/imports", admin.base))
        .header("origin", EVIL)
        .header("content-type", "text/csv")
        .body(CSV)
        .send()
        .await
        .unwrap();
    assert_error(resp, StatusCode::FORBIDDEN, "cross_origin").await;
    // Without Origin, a foreign Referer tells the same.
    let resp = admin
        .http
        .post(format!("{}/api/v1/admin/imports", admin.base))
        .header("referer", format!("{EVIL}/page"))
        .header("content-type", "text/plain")
        .body(CSV)
        .send()
        .await
        .unwrap();
    assert_error(resp, StatusCode::FORBIDDEN, "cross_origin").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(members(&app).await, before, "nothing imported");

    // A mall order the cashier could hand over.
    let item = crate::mall::new_item(&admin, "帆布袋", 50, 10, json!({})).await;
    let m = app.sign_up(&phone(11), "钱一").await;
    crate::mall::grant(&app, &m, 200).await;
    let order = crate::mall::redeemed(&m.client, item, 1).await;
    let cashier = app.staff_login().await;
    let collect = format!("/api/v1/staff/mall/orders/{}/collect", order.order_code);
    assert_error(
        form_post(&cashier, &collect, Some(EVIL), "").await,
        StatusCode::FORBIDDEN,
        "cross_origin",
    )
    .await;
    let status = app
        .db
        .scalar_i64(&format!(
            "SELECT COUNT(*) FROM mall_orders WHERE order_code = '{}' AND status = 'pending'",
            order.order_code
        ))
        .await;
    assert_eq!(status, 1, "the order is still waiting");

    // Check-in: refused, so the same-site one afterwards is the day's first.
    assert_error(
        form_post(&m.client, "/api/v1/me/check-in", Some(EVIL), "").await,
        StatusCode::FORBIDDEN,
        "cross_origin",
    )
    .await;
    let done = json_ok(
        form_post(&m.client, "/api/v1/me/check-in", Some(&app.base), "").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(done["checked_in"], true, "{done}");

    // Revoking a sign-up link.
    let link =
        crate::signup::make_link(&admin, json!({ "store_code": "S001", "channel": "poster" }))
            .await;
    assert_error(
        form_post(
            &admin,
            &format!("/api/v1/admin/signup-links/{}/revoke", link.id),
            Some(EVIL),
            "",
        )
        .await,
        StatusCode::FORBIDDEN,
        "cross_origin",
    )
    .await;
    assert_eq!(
        app.db
            .scalar_i64(&format!(
                "SELECT COUNT(*) FROM signup_links WHERE id = {} AND revoked_at IS NULL",
                link.id
            ))
            .await,
        1,
        "the link still works"
    );

    // Logging out (a member and a cashier): the sessions live on.
    for (c, path, me) in [
        (&m.client, "/api/v1/auth/logout", "/api/v1/me"),
        (&cashier, "/api/v1/staff/logout", "/api/v1/staff/me"),
    ] {
        assert_error(
            form_post(c, path, Some(EVIL), "").await,
            StatusCode::FORBIDDEN,
            "cross_origin",
        )
        .await;
        assert_eq!(c.get(me).await.status(), StatusCode::OK, "{path}");
    }
}

async fn same_site_and_headerless_requests_still_work(app: TestApp) {
    let admin = app.admin_login().await;
    let before = members(&app).await;
    // Same origin (what the staff app sends) and no Origin at all (a script, curl).
    for origin in [Some(app.base.as_str()), None] {
        let resp = with_origin(
            admin
                .http
                .post(format!("{}/api/v1/admin/imports?dry_run=true", admin.base)),
            origin,
        )
        .header("content-type", "text/csv")
        .body(CSV)
        .send()
        .await
        .unwrap();
        let v = json_ok(resp, StatusCode::OK).await;
        assert_eq!(v["report"]["rows"], 1, "{v}");
    }
    // A same-origin Referer without Origin is fine too.
    let m = app.sign_up(&phone(12), "孙二").await;
    let resp = m
        .client
        .http
        .post(format!("{}/api/v1/me/check-in", app.base))
        .header("referer", format!("{}/tiers", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // Reading with a foreign Origin is not a change: still answered.
    let resp = m
        .client
        .http
        .get(format!("{}/api/v1/me", app.base))
        .header("origin", EVIL)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // Without a session cookie there is nothing to ride on: sign-in works from anywhere
    // the browser lets it.
    let resp = with_origin(
        app.client()
            .http
            .post(format!("{}/api/v1/auth/otp", app.base)),
        Some(EVIL),
    )
    .json(&json!({ "phone": phone(13) }))
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let resp = with_origin(
        m.client
            .http
            .post(format!("{}/api/v1/auth/logout", app.base)),
        Some(&app.base),
    )
    .send()
    .await
    .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    assert_eq!(members(&app).await, before + 1);
}

/// Signs a member up and returns their session cookie (`name=value`): with an https
/// PUBLIC_URL the cookie is `Secure`, which a client on plain http keeps to itself.
async fn member_cookie(app: &TestApp, n: u32) -> String {
    let c = app.client();
    let resp = c
        .post("/api/v1/auth/otp", &json!({ "phone": phone(n) }))
        .await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let code = app.otp_for(&phone(n)).await;
    let resp = c
        .post(
            "/api/v1/auth/verify",
            &json!({ "phone": phone(n), "code": code, "name": "吴四",
                     "privacy_consent": true, "marketing_consent": false }),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    set_cookie_headers(&resp)
        .into_iter()
        .find(|c| c.starts_with("mc_member="))
        .and_then(|c| c.split(';').next().map(str::to_string))
        .unwrap()
}

async fn check_in_from(app: &TestApp, cookie: &str, origin: &str) -> Response {
    reqwest::Client::new()
        .post(format!("{}/api/v1/me/check-in", app.base))
        .header("cookie", cookie)
        .header("origin", origin)
        .send()
        .await
        .unwrap()
}

async fn own_origin_is_the_public_url_when_set(app: TestApp) {
    let cookie = member_cookie(&app, 15).await;
    // The address the request came to is not the site's origin when PUBLIC_URL names
    // another one; nor is the public host over plain http.
    for origin in [app.base.as_str(), "http://vip.brand.cn", EVIL] {
        assert_error(
            check_in_from(&app, &cookie, origin).await,
            StatusCode::FORBIDDEN,
            "cross_origin",
        )
        .await;
    }
    let done = json_ok(
        check_in_from(&app, &cookie, "https://vip.brand.cn").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(done["checked_in"], true, "{done}");
}

async fn the_import_reads_only_csv(app: TestApp) {
    let admin = app.admin_login().await;
    let before = members(&app).await;
    for ct in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        Some("application/json"),
        None,
    ] {
        let mut req = admin
            .http
            .post(format!("{}/api/v1/admin/imports", admin.base))
            .body(CSV);
        if let Some(ct) = ct {
            req = req.header("content-type", ct);
        }
        assert_error(
            req.send().await.unwrap(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        )
        .await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(members(&app).await, before);
    // The type may carry a charset.
    let resp = admin
        .http
        .post(format!("{}/api/v1/admin/imports?dry_run=true", admin.base))
        .header("content-type", "text/csv; charset=utf-8")
        .body(CSV)
        .send()
        .await
        .unwrap();
    json_ok(resp, StatusCode::OK).await;
    // Who may import is still decided first.
    let cashier = app.staff_login().await;
    assert_error(
        form_post(&cashier, "/api/v1/admin/imports", None, CSV).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

fn header(resp: &Response, name: &str) -> String {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

fn directive<'a>(csp: &'a str, name: &str) -> &'a str {
    csp.split(';')
        .map(str::trim)
        .find(|d| d.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no {name} in {csp}"))
}

async fn pages_and_api_answers_carry_security_headers(app: TestApp) {
    let c = app.client();
    for path in ["/", "/login", "/staff/", "/index.html"] {
        let resp = c.get(path).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert!(header(&resp, "content-type").starts_with("text/html"));
        let csp = header(&resp, "content-security-policy");
        let script = directive(&csp, "script-src");
        assert!(script.contains("'self'"), "{csp}");
        assert!(script.contains("'wasm-unsafe-eval'"), "{csp}");
        assert!(script.contains(INDEX_INLINE_SCRIPT_HASH), "{path}: {csp}");
        assert!(!script.contains("'unsafe-inline'"), "{csp}");
        assert!(!script.contains("'unsafe-eval'"), "{csp}");
        // Only the two inline blocks: the loaded script needs no hash.
        assert_eq!(script.matches("'sha256-").count(), 1, "{csp}");
        let style = directive(&csp, "style-src");
        assert!(style.contains(INDEX_INLINE_STYLE_HASH), "{csp}");
        assert!(!style.contains("'unsafe-inline'"), "{csp}");
        assert_eq!(directive(&csp, "frame-ancestors"), "frame-ancestors 'self'");
        assert_eq!(directive(&csp, "object-src"), "object-src 'none'");
        assert_eq!(header(&resp, "x-content-type-options"), "nosniff");
        assert_eq!(header(&resp, "x-frame-options"), "SAMEORIGIN");
        assert_eq!(
            header(&resp, "referrer-policy"),
            "strict-origin-when-cross-origin"
        );
        // Plain http without a proxy saying otherwise: no HSTS.
        assert_eq!(header(&resp, "strict-transport-security"), "", "{path}");
    }
    for resp in [
        c.get("/api/v1/tiers").await,
        c.get("/api/v1/me").await,
        c.get("/api/v1/nothing-here").await,
        c.get("/healthz").await,
    ] {
        let url = resp.url().clone();
        let csp = header(&resp, "content-security-policy");
        assert_eq!(
            directive(&csp, "default-src"),
            "default-src 'none'",
            "{url}"
        );
        assert_eq!(directive(&csp, "frame-ancestors"), "frame-ancestors 'none'");
        assert_eq!(header(&resp, "x-content-type-options"), "nosniff", "{url}");
        assert_eq!(header(&resp, "x-frame-options"), "DENY", "{url}");
        assert!(!header(&resp, "referrer-policy").is_empty(), "{url}");
    }
    // A refused cross-site request carries them too.
    let admin = app.admin_login().await;
    let resp = form_post(&admin, "/api/v1/admin/imports", Some(EVIL), CSV).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(header(&resp, "x-content-type-options"), "nosniff");
}

fn cookie_named<'a>(cookies: &'a [String], name: &str) -> &'a str {
    cookies
        .iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie in {cookies:?}"))
}

fn is_secure(cookie: &str) -> bool {
    cookie
        .split(';')
        .any(|a| a.trim().eq_ignore_ascii_case("secure"))
}

async fn staff_login_from(c: &Client, proto: Option<&str>) -> Response {
    let mut req = c.http.post(format!("{}/api/v1/staff/login", c.base)).json(
        &json!({ "username": crate::common::STAFF_USER, "password": crate::common::STAFF_PASS }),
    );
    if let Some(p) = proto {
        req = req.header("x-forwarded-proto", p);
    }
    req.send().await.unwrap()
}

async fn cookies_are_secure_with_an_https_public_url(app: TestApp) {
    let c = app.client();
    let resp = c
        .post("/api/v1/auth/otp", &json!({ "phone": phone(21) }))
        .await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    assert!(header(&resp, "strict-transport-security").starts_with("max-age="));
    let code = app.otp_for(&phone(21)).await;
    let resp = c
        .post(
            "/api/v1/auth/verify",
            &json!({ "phone": phone(21), "code": code, "name": "郑五",
                     "privacy_consent": true, "marketing_consent": false }),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let cookies = set_cookie_headers(&resp);
    let member = cookie_named(&cookies, "mc_member");
    assert!(is_secure(member), "{member}");
    assert!(member.contains("HttpOnly"), "{member}");
    let resp = staff_login_from(&app.client(), None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let cookies = set_cookie_headers(&resp);
    assert!(is_secure(cookie_named(&cookies, "mc_staff")), "{cookies:?}");
    let page = c.get("/").await;
    assert!(header(&page, "strict-transport-security").starts_with("max-age="));
}

async fn cookies_are_secure_when_a_trusted_proxy_says_https(app: TestApp) {
    let proxy = client_from(&app, PROXY);
    let resp = staff_login_from(&proxy, Some("https")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(is_secure(cookie_named(
        &set_cookie_headers(&resp),
        "mc_staff"
    )));
    assert!(header(&resp, "strict-transport-security").starts_with("max-age="));
    // The proxy forwarding plain http: no Secure, no HSTS.
    let resp = staff_login_from(&client_from(&app, PROXY), Some("http")).await;
    assert!(!is_secure(cookie_named(
        &set_cookie_headers(&resp),
        "mc_staff"
    )));
    assert_eq!(header(&resp, "strict-transport-security"), "");
    // Anyone else saying so is not believed.
    let direct = client_from(&app, "127.0.0.1");
    let resp = staff_login_from(&direct, Some("https")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let cookies = set_cookie_headers(&resp);
    assert!(
        !is_secure(cookie_named(&cookies, "mc_staff")),
        "{cookies:?}"
    );
    assert_eq!(header(&resp, "strict-transport-security"), "");
    // Logging out over https clears the cookie with the same flags.
    let resp = proxy
        .http
        .post(format!("{}/api/v1/staff/logout", app.base))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    assert!(is_secure(cookie_named(
        &set_cookie_headers(&resp),
        "mc_staff"
    )));
}

async fn get_metrics(base: &str, token: Option<&str>) -> Response {
    let mut req = reqwest::Client::new().get(format!("{base}/metrics"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}

async fn metrics_are_not_public(app: TestApp) {
    assert_error(
        get_metrics(&app.base, None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_error(
        get_metrics(&app.base, Some("anything")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

async fn metrics_answer_the_token(app: TestApp) {
    let _ = app.client().get("/api/v1/tiers").await;
    let resp = get_metrics(&app.base, None).await;
    assert_eq!(
        header(&resp, "www-authenticate"),
        "Bearer realm=\"metrics\""
    );
    assert_error(resp, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    assert_error(
        get_metrics(&app.base, Some("prom-token-012345678")).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    let resp = get_metrics(&app.base, Some(TOKEN)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let text = resp.text().await.unwrap();
    assert!(text.contains("# TYPE "), "{text:.300}");
}

async fn metrics_have_their_own_address(app: TestApp) {
    let _ = app.client().get("/api/v1/tiers").await;
    assert_eq!(
        get_metrics(&app.base, None).await.status(),
        StatusCode::NOT_FOUND
    );
    let private = app.metrics_base.clone().expect("metrics listener");
    assert_ne!(private, app.base);
    let resp = get_metrics(&private, None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.text().await.unwrap().contains("# TYPE "));
    // Only /metrics there: the API is not on the private address.
    let resp = reqwest::get(format!("{private}/api/v1/tiers"))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

async fn metrics_on_their_own_address_still_ask_for_the_token(app: TestApp) {
    // Not on the public address even with the token: they live elsewhere.
    assert_eq!(
        get_metrics(&app.base, Some(TOKEN)).await.status(),
        StatusCode::NOT_FOUND
    );
    let private = app.metrics_base.clone().expect("metrics listener");
    for wrong in [None, Some("prom-token-wrong")] {
        let resp = get_metrics(&private, wrong).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{wrong:?}");
        assert!(resp.headers().contains_key("www-authenticate"));
    }
    let resp = get_metrics(&private, Some(TOKEN)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.text().await.unwrap().contains("# TYPE "));
}
