//! Staff and admin sign-in.

use member_core::dto::StaffView;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{
    assert_error, json_ok, set_cookie_headers, TestApp, ADMIN_PASS, ADMIN_USER, STAFF_PASS,
    STAFF_USER,
};

both_backends!(
    staff_login_and_me,
    staff_login_failures_are_uniform,
    staff_login_is_throttled,
    admin_login_needs_admin_role,
);

fn creds(user: &str, pass: &str) -> serde_json::Value {
    json!({ "username": user, "password": pass })
}

async fn staff_login_and_me(app: TestApp) {
    let c = app.client();
    assert_error(
        c.get("/api/v1/staff/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    let resp = c
        .post("/api/v1/staff/login", &creds(STAFF_USER, STAFF_PASS))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let cookies = set_cookie_headers(&resp);
    let staff_cookie = cookies
        .iter()
        .find(|c| c.starts_with("mc_staff="))
        .unwrap_or_else(|| panic!("no mc_staff cookie in {cookies:?}"));
    let lower = staff_cookie.to_ascii_lowercase();
    assert!(lower.contains("httponly"), "{staff_cookie}");
    assert!(lower.contains("samesite=lax"), "{staff_cookie}");
    assert!(lower.contains("path=/"), "{staff_cookie}");
    assert!(
        !cookies.iter().any(|c| c.starts_with("mc_member=")),
        "staff login must not set a member cookie"
    );
    let body = resp.text().await.unwrap_or_default();
    assert!(
        !body.contains("argon2") && !body.contains(STAFF_PASS),
        "login answer leaks secrets: {body}"
    );

    let me: StaffView =
        serde_json::from_value(json_ok(c.get("/api/v1/staff/me").await, StatusCode::OK).await)
            .expect("StaffView");
    assert_eq!(me.username, STAFF_USER);
    assert_eq!(me.role, "cashier");
    assert_eq!(me.store_code.as_deref(), Some("S001"));
    assert_eq!(me.store_name.as_deref(), Some("旗舰店"));

    // Staff logout ends the session.
    let resp = c.post_empty("/api/v1/staff/logout").await;
    assert!(
        resp.status().is_success(),
        "staff logout: {}",
        resp.status()
    );
    assert_error(
        c.get("/api/v1/staff/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
}

async fn staff_login_failures_are_uniform(app: TestApp) {
    let c = app.client();
    let wrong_pw = c
        .post(
            "/api/v1/staff/login",
            &creds(STAFF_USER, "not-the-password"),
        )
        .await;
    let (s1, set1) = (wrong_pw.status(), set_cookie_headers(&wrong_pw));
    let v1 = assert_error(wrong_pw, StatusCode::UNAUTHORIZED, "bad_credentials").await;
    let unknown = c
        .post(
            "/api/v1/staff/login",
            &creds("nobody-here", "whatever-pass"),
        )
        .await;
    let v2 = assert_error(unknown, StatusCode::UNAUTHORIZED, "bad_credentials").await;
    assert_eq!(s1, StatusCode::UNAUTHORIZED);
    // Same message too: nothing tells which usernames exist.
    assert_eq!(v1, v2, "wrong password and unknown user must look the same");
    assert!(
        !set1
            .iter()
            .any(|c| c.starts_with("mc_staff=") && !c.contains("mc_staff=;")),
        "no session on failure: {set1:?}"
    );
    assert_error(
        c.get("/api/v1/staff/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    // Empty fields are bad credentials (or bad input), never a 500.
    let resp = c.post("/api/v1/staff/login", &creds("", "")).await;
    assert!(
        resp.status() == StatusCode::UNAUTHORIZED || resp.status() == StatusCode::BAD_REQUEST,
        "empty credentials: {}",
        resp.status()
    );
}

async fn staff_login_is_throttled(app: TestApp) {
    let c = app.client();
    let mut statuses = Vec::new();
    for _ in 0..20 {
        let resp = c
            .post("/api/v1/staff/login", &creds(STAFF_USER, "guessing-again"))
            .await;
        let s = resp.status();
        statuses.push(s.as_u16());
        if s == StatusCode::TOO_MANY_REQUESTS {
            assert_error(resp, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
            break;
        }
        assert_error(resp, StatusCode::UNAUTHORIZED, "bad_credentials").await;
    }
    assert_eq!(
        statuses.last(),
        Some(&429),
        "20 wrong passwords in a row were never throttled: {statuses:?}"
    );
    assert!(
        statuses.len() >= 3,
        "throttled too early, a typo must not lock a cashier out: {statuses:?}"
    );
    // While this client waits, even the right password is refused to it (another
    // client is not held up: see guessing.rs).
    assert_error(
        c.post("/api/v1/staff/login", &creds(STAFF_USER, STAFF_PASS))
            .await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    )
    .await;
    // Later it works again.
    app.advance_clock(60 * 60);
    let resp = c
        .post("/api/v1/staff/login", &creds(STAFF_USER, STAFF_PASS))
        .await;
    assert_eq!(resp.status(), StatusCode::OK, "after the throttle window");
}

async fn admin_login_needs_admin_role(app: TestApp) {
    let c = app.client();
    let resp = c
        .post("/api/v1/admin/login", &creds(STAFF_USER, STAFF_PASS))
        .await;
    let cookies = set_cookie_headers(&resp);
    assert_error(resp, StatusCode::FORBIDDEN, "forbidden").await;
    assert!(
        !cookies
            .iter()
            .any(|c| c.starts_with("mc_staff=") && !c.starts_with("mc_staff=;")),
        "a refused admin login must not leave a session: {cookies:?}"
    );
    assert_error(
        c.post("/api/v1/admin/login", &creds(ADMIN_USER, "wrong"))
            .await,
        StatusCode::UNAUTHORIZED,
        "bad_credentials",
    )
    .await;
    let resp = c
        .post("/api/v1/admin/login", &creds(ADMIN_USER, ADMIN_PASS))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let me = json_ok(c.get("/api/v1/staff/me").await, StatusCode::OK).await;
    assert_eq!(me["role"], "admin");
    assert_eq!(me["username"], ADMIN_USER);
}
