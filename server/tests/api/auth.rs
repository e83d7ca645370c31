//! Member sign-up and sign-in by SMS code, and the input validation around it.

use futures::StreamExt;
use member_core::dto::{MeView, OtpSent};
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{assert_error, json_ok, phone, set_cookie_headers, TestApp};

both_backends!(
    signup_creates_member,
    second_verify_signs_in_same_member,
    logout_ends_the_session,
    bad_phone_is_rejected,
    malformed_bodies_are_json_400s,
    wrong_code_and_missing_consent_or_name,
    expired_otp_is_refused,
    five_wrong_tries_burn_the_code,
    otp_resend_is_rate_limited_per_phone,
    otp_daily_cap_per_phone,
    busy_store_behind_one_ip_is_not_blocked,
);

async fn send_otp(app: &TestApp, phone: &str) -> reqwest::Response {
    app.client()
        .post("/api/v1/auth/otp", &json!({ "phone": phone }))
        .await
}

fn verify_body(phone: &str, code: &str, name: Option<&str>) -> serde_json::Value {
    json!({
        "phone": phone, "code": code, "name": name,
        "privacy_consent": true, "marketing_consent": true
    })
}

async fn signup_creates_member(app: TestApp) {
    let p = phone(1);
    let resp = send_otp(&app, &p).await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let sent: OtpSent = resp.json().await.expect("OtpSent");
    assert_eq!(sent.resend_after_secs, 60);
    assert_eq!(sent.expires_in_secs, 600);

    let code = app.otp_for(&p).await;
    assert_eq!(code.len(), 6, "6-digit OTP: {code}");
    assert!(code.chars().all(|c| c.is_ascii_digit()));

    let client = app.client();
    let resp = client
        .post("/api/v1/auth/verify", &verify_body(&p, &code, Some("张三")))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let cookies = set_cookie_headers(&resp);
    let member_cookie = cookies
        .iter()
        .find(|c| c.starts_with("mc_member="))
        .unwrap_or_else(|| panic!("no mc_member cookie in {cookies:?}"));
    let lower = member_cookie.to_ascii_lowercase();
    assert!(lower.contains("httponly"), "HttpOnly: {member_cookie}");
    assert!(
        lower.contains("samesite=lax"),
        "SameSite=Lax: {member_cookie}"
    );
    assert!(lower.contains("path=/"), "Path=/: {member_cookie}");
    assert!(
        !cookies.iter().any(|c| c.starts_with("mc_staff=")),
        "a member sign-in must not set a staff cookie: {cookies:?}"
    );

    let verified: MeView = resp.json().await.expect("MeView");
    assert!(verified.new_member, "first verify creates the account");

    let me: MeView =
        serde_json::from_value(json_ok(client.get("/api/v1/me").await, StatusCode::OK).await)
            .expect("MeView");
    assert_eq!(me.member_no.len(), 10, "{}", me.member_no);
    assert!(me.member_no.chars().all(|c| c.is_ascii_digit()));
    assert!(member_core::card_code::is_member_no(&me.member_no));
    assert_eq!(me.member_no, verified.member_no);
    assert_eq!(me.name, "张三");
    assert_eq!(me.phone_masked, "139****0001");
    assert_eq!(me.tier.code, "normal");
    assert_eq!(me.tier.name, "普卡");
    assert_eq!(me.points, 0);
    assert_eq!(me.growth, 0);
    assert_eq!(me.progress_permille, 0);
    assert!(me.marketing_consent);
    let next = me.next_tier.expect("next tier at normal");
    assert_eq!(next.code, "silver");
    assert_eq!(next.name, "银卡");
    assert_eq!(next.growth_needed, 500);

    // The full phone number never appears in what the member API returns.
    let raw = client
        .get("/api/v1/me")
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(!raw.contains(&p), "full phone leaked in /me: {raw}");

    // The card key belongs to this member.
    let key = json_ok(client.get("/api/v1/me/card-key").await, StatusCode::OK).await;
    assert_eq!(key["member_no"], me.member_no.as_str());
    assert_eq!(key["key_hex"].as_str().map(str::len), Some(64));

    // Tiers are public and come from the seed.
    let tiers = json_ok(app.client().get("/api/v1/tiers").await, StatusCode::OK).await;
    let got: Vec<(String, i64, i64)> = tiers
        .as_array()
        .expect("tiers array")
        .iter()
        .map(|t| {
            (
                t["code"].as_str().unwrap_or("").to_string(),
                t["growth_threshold"].as_i64().unwrap_or(-1),
                t["points_per_yuan_pct"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("normal".into(), 0, 100),
            ("silver".into(), 500, 120),
            ("gold".into(), 2000, 150),
            ("diamond".into(), 8000, 200),
        ]
    );
}

async fn second_verify_signs_in_same_member(app: TestApp) {
    let p = phone(2);
    let first = app.sign_up(&p, "李四").await;
    assert!(first.me.new_member);

    // A minute later, on another device.
    app.advance_clock(61);
    let resp = send_otp(&app, &p).await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let code = app.otp_for(&p).await;
    let other = app.client();
    // No name: an existing member does not need one.
    let resp = other
        .post("/api/v1/auth/verify", &verify_body(&p, &code, None))
        .await;
    let again: MeView =
        serde_json::from_value(json_ok(resp, StatusCode::OK).await).expect("MeView");
    assert!(
        !again.new_member,
        "second verify must not create an account"
    );
    assert_eq!(again.member_no, first.me.member_no);
    assert_eq!(again.name, "李四");

    let members = app
        .db
        .scalar_i64(&format!(
            "SELECT COUNT(*) FROM members WHERE phone = '+86{p}'"
        ))
        .await;
    assert_eq!(members, 1, "one account per phone");

    // Both devices stay signed in as the same member.
    assert_eq!(first.me().await.member_no, first.me.member_no);
    let me2 = json_ok(other.get("/api/v1/me").await, StatusCode::OK).await;
    assert_eq!(me2["member_no"], first.me.member_no.as_str());
}

async fn logout_ends_the_session(app: TestApp) {
    let m = app.sign_up(&phone(3), "王五").await;
    assert_eq!(m.me().await.member_no, m.me.member_no);

    // Keep the raw cookie to prove the server forgets the session, not just the browser.
    let p = phone(4);
    let raw_client = reqwest::Client::new();
    assert_eq!(send_otp(&app, &p).await.status(), StatusCode::ACCEPTED);
    let code = app.otp_for(&p).await;
    let resp = raw_client
        .post(app.url("/api/v1/auth/verify"))
        .json(&verify_body(&p, &code, Some("赵六")))
        .send()
        .await
        .expect("verify");
    assert_eq!(resp.status(), StatusCode::OK);
    let set = set_cookie_headers(&resp);
    let pair = set
        .iter()
        .find(|c| c.starts_with("mc_member="))
        .and_then(|c| c.split(';').next())
        .expect("mc_member cookie")
        .to_string();
    let with_cookie = |path: &str| raw_client.get(app.url(path)).header("cookie", pair.clone());
    assert_eq!(
        with_cookie("/api/v1/me").send().await.expect("me").status(),
        StatusCode::OK
    );
    let resp = raw_client
        .post(app.url("/api/v1/auth/logout"))
        .header("cookie", pair.clone())
        .send()
        .await
        .expect("logout");
    assert!(resp.status().is_success(), "logout: {}", resp.status());
    assert_error(
        with_cookie("/api/v1/me").send().await.expect("me"),
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;

    // Through the cookie jar: logout clears it, /me is 401, and the other member is fine.
    let resp = m.client.post_empty("/api/v1/auth/logout").await;
    assert!(resp.status().is_success(), "logout: {}", resp.status());
    assert_error(
        m.client.get("/api/v1/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    assert_error(
        m.client.get("/api/v1/me/card-key").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
}

async fn bad_phone_is_rejected(app: TestApp) {
    let c = app.client();
    for bad in [
        "",
        "123",
        "12812345678",
        "abcdefghijk",
        "+1 415 555 0100",
        "1381234567890",
    ] {
        assert_error(
            c.post("/api/v1/auth/otp", &json!({ "phone": bad })).await,
            StatusCode::BAD_REQUEST,
            "invalid_phone",
        )
        .await;
    }
    // Verify checks the phone too.
    assert_error(
        c.post(
            "/api/v1/auth/verify",
            &verify_body("12345", "123456", Some("x")),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_phone",
    )
    .await;
    // Nothing was sent.
    let outbox = json_ok(c.get("/api/v1/dev/outbox").await, StatusCode::OK).await;
    assert_eq!(outbox.as_array().map(Vec::len), Some(0), "{outbox}");
}

async fn malformed_bodies_are_json_400s(app: TestApp) {
    let c = app.client();
    let json_ct = Some("application/json");
    let cases: &[(&str, &str)] = &[
        ("/api/v1/auth/otp", "{"),
        ("/api/v1/auth/otp", "not json"),
        ("/api/v1/auth/otp", "{}"),
        ("/api/v1/auth/otp", r#"{"phone": 13900000001}"#),
        ("/api/v1/auth/otp", r#"{"phone": null}"#),
        ("/api/v1/auth/otp", "[]"),
        ("/api/v1/auth/verify", "{"),
        ("/api/v1/auth/verify", r#"{"phone":"13900000001"}"#),
        (
            "/api/v1/auth/verify",
            r#"{"phone":"13900000001","code":"123456","privacy_consent":"yes"}"#,
        ),
        (
            "/api/v1/auth/verify",
            r#"{"phone":"13900000001","code":123456,"privacy_consent":true}"#,
        ),
        ("/api/v1/staff/login", r#"{"username":"cashier"}"#),
        ("/api/v1/staff/login", r#"{"username":1,"password":2}"#),
        ("/api/v1/admin/login", "{"),
    ];
    for (path, body) in cases {
        let resp = c.post_raw(path, json_ct, body).await;
        assert_error(resp, StatusCode::BAD_REQUEST, "invalid_input").await;
    }
    // No or wrong content type: still a JSON error, never a 500.
    for ct in [None, Some("text/plain")] {
        let resp = c
            .post_raw("/api/v1/auth/otp", ct, r#"{"phone":"13900000001"}"#)
            .await;
        assert_error(resp, StatusCode::BAD_REQUEST, "invalid_input").await;
    }
    // A huge body is refused with a JSON error too.
    let huge = format!(r#"{{"phone":"{}"}}"#, "1".repeat(256 * 1024));
    let resp = c.post_raw("/api/v1/auth/otp", json_ct, &huge).await;
    assert_error(resp, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
}

async fn wrong_code_and_missing_consent_or_name(app: TestApp) {
    let p = phone(5);
    assert_eq!(send_otp(&app, &p).await.status(), StatusCode::ACCEPTED);
    let code = app.otp_for(&p).await;
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let c = app.client();

    assert_error(
        c.post("/api/v1/auth/verify", &verify_body(&p, wrong, Some("钱七")))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_code",
    )
    .await;
    // A malformed code is a 400 too (not a 500).
    assert_error(
        c.post(
            "/api/v1/auth/verify",
            &verify_body(&p, "12ab", Some("钱七")),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_code",
    )
    .await;

    let mut no_consent = verify_body(&p, &code, Some("钱七"));
    no_consent["privacy_consent"] = json!(false);
    assert_error(
        c.post("/api/v1/auth/verify", &no_consent).await,
        StatusCode::BAD_REQUEST,
        "consent_required",
    )
    .await;

    assert_error(
        c.post("/api/v1/auth/verify", &verify_body(&p, &code, None))
            .await,
        StatusCode::BAD_REQUEST,
        "name_required",
    )
    .await;
    assert_error(
        c.post("/api/v1/auth/verify", &verify_body(&p, &code, Some("   ")))
            .await,
        StatusCode::BAD_REQUEST,
        "name_required",
    )
    .await;

    // None of that created an account or a session.
    assert_eq!(app.db.scalar_i64("SELECT COUNT(*) FROM members").await, 0);
    assert_error(
        c.get("/api/v1/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;

    // A code for a phone that never asked: no live code, ask again.
    assert_error(
        c.post(
            "/api/v1/auth/verify",
            &verify_body(&phone(6), "123456", Some("x")),
        )
        .await,
        StatusCode::GONE,
        "otp_expired",
    )
    .await;

    // The right code still works after those mistakes (2 wrong tries < 5).
    let me = json_ok(
        c.post("/api/v1/auth/verify", &verify_body(&p, &code, Some("钱七")))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(me["name"], "钱七");
    // A code is good for one sign-in only.
    assert_error(
        app.client()
            .post("/api/v1/auth/verify", &verify_body(&p, &code, None))
            .await,
        StatusCode::GONE,
        "otp_expired",
    )
    .await;
}

async fn expired_otp_is_refused(app: TestApp) {
    let p = phone(7);
    assert_eq!(send_otp(&app, &p).await.status(), StatusCode::ACCEPTED);
    let code = app.otp_for(&p).await;
    // Eleven minutes later.
    app.advance_clock(11 * 60);
    assert_error(
        app.client()
            .post("/api/v1/auth/verify", &verify_body(&p, &code, Some("孙八")))
            .await,
        StatusCode::GONE,
        "otp_expired",
    )
    .await;
    assert_eq!(app.db.scalar_i64("SELECT COUNT(*) FROM members").await, 0);
}

async fn five_wrong_tries_burn_the_code(app: TestApp) {
    let p = phone(8);
    assert_eq!(send_otp(&app, &p).await.status(), StatusCode::ACCEPTED);
    let code = app.otp_for(&p).await;
    let c = app.client();
    let wrongs: Vec<String> = (0..5)
        .map(|i| {
            format!(
                "{:06}",
                (code.parse::<u32>().unwrap_or(0) + 1 + i) % 1_000_000
            )
        })
        .collect();
    for (i, w) in wrongs.iter().enumerate() {
        let resp = c
            .post("/api/v1/auth/verify", &verify_body(&p, w, Some("周九")))
            .await;
        if i < 4 {
            assert_error(resp, StatusCode::BAD_REQUEST, "invalid_code").await;
        } else {
            // The fifth wrong try spends the last one: the code is locked.
            assert_error(resp, StatusCode::GONE, "otp_locked").await;
        }
    }
    // Now even the right code fails.
    let resp = c
        .post("/api/v1/auth/verify", &verify_body(&p, &code, Some("周九")))
        .await;
    assert_error(resp, StatusCode::GONE, "otp_locked").await;
    assert_eq!(app.db.scalar_i64("SELECT COUNT(*) FROM members").await, 0);

    // A new code (after the resend wait) works again.
    app.advance_clock(61);
    assert_eq!(send_otp(&app, &p).await.status(), StatusCode::ACCEPTED);
    let fresh = app.otp_for(&p).await;
    json_ok(
        c.post(
            "/api/v1/auth/verify",
            &verify_body(&p, &fresh, Some("周九")),
        )
        .await,
        StatusCode::OK,
    )
    .await;
}

async fn otp_resend_is_rate_limited_per_phone(app: TestApp) {
    let p = phone(9);
    assert_eq!(send_otp(&app, &p).await.status(), StatusCode::ACCEPTED);
    assert_error(
        send_otp(&app, &p).await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    )
    .await;
    // The same number in another spelling is the same phone.
    assert_error(
        send_otp(&app, &format!("+86 {p}")).await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    )
    .await;
    // Only one message went out.
    let outbox = json_ok(app.client().get("/api/v1/dev/outbox").await, StatusCode::OK).await;
    let to_p = outbox
        .as_array()
        .expect("outbox array")
        .iter()
        .filter(|m| m["to"] == format!("+86{p}").as_str())
        .count();
    assert_eq!(to_p, 1);
    // Another phone is not affected.
    assert_eq!(
        send_otp(&app, &phone(10)).await.status(),
        StatusCode::ACCEPTED
    );
    // After a minute the phone may ask again.
    app.advance_clock(61);
    assert_eq!(send_otp(&app, &p).await.status(), StatusCode::ACCEPTED);
}

async fn otp_daily_cap_per_phone(app: TestApp) {
    let p = phone(11);
    for i in 0..10 {
        let resp = send_otp(&app, &p).await;
        assert_eq!(resp.status(), StatusCode::ACCEPTED, "send #{}", i + 1);
        app.advance_clock(61);
    }
    assert_error(
        send_otp(&app, &p).await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    )
    .await;
}

async fn busy_store_behind_one_ip_is_not_blocked(app: TestApp) {
    // 200 different customers in one hour from the store's single NAT address.
    let c = app.client();
    let sends = (0..200u32).map(|i| {
        let c = c.clone();
        async move {
            let resp = c
                .post("/api/v1/auth/otp", &json!({ "phone": phone(1000 + i) }))
                .await;
            (i, resp.status())
        }
    });
    let results = futures::stream::iter(sends)
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
    let refused: Vec<_> = results
        .iter()
        .filter(|(_, s)| *s != StatusCode::ACCEPTED)
        .collect();
    assert!(refused.is_empty(), "refused sends: {refused:?}");
    // But there is a per-IP limit: a script cannot send codes to every number.
    let mut limited_after = None;
    for i in 200..2_000u32 {
        let resp = c
            .post("/api/v1/auth/otp", &json!({ "phone": phone(1000 + i) }))
            .await;
        if resp.status() == StatusCode::TOO_MANY_REQUESTS {
            assert_error(resp, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
            limited_after = Some(i);
            break;
        }
        assert_eq!(resp.status(), StatusCode::ACCEPTED);
    }
    assert!(
        limited_after.is_some(),
        "2000 sends from one IP in an hour were never limited"
    );
    // An hour later the store can send again.
    app.advance_clock(3_601);
    assert_eq!(
        send_otp(&app, &phone(9_999)).await.status(),
        StatusCode::ACCEPTED
    );
}
