//! Finding a member who can't show a card (issue 15, item 11): full phone or member
//! number → name and masked phone + a look-up token bound to this staff session and
//! member; purchase and preview by `member_no` + token; audited; rate-limited per
//! session and store; the full phone never reaches the logs.

use std::io::Write;
use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{assert_error, idem, json_ok, phone, Client, TestApp};
use crate::ledger::{count, post_idem};

both_backends!(
    lookup_then_purchase_by_member_no,
    lookup_by_member_number_and_refusals,
    member_no_needs_this_sessions_fresh_token_for_that_member,
    lookups_are_rate_limited_per_session_and_store,
    full_phone_never_in_logs,
);

async fn lookup(till: &Client, query: &str) -> reqwest::Response {
    till.post("/api/v1/staff/members/lookup", &json!({ "query": query }))
        .await
}

async fn found(till: &Client, query: &str) -> (String, String) {
    let v = json_ok(lookup(till, query).await, StatusCode::OK).await;
    (
        v["member"]["member_no"].as_str().unwrap_or("").to_string(),
        v["lookup_token"].as_str().unwrap_or("").to_string(),
    )
}

async fn buy_looked_up(
    till: &Client,
    member_no: &str,
    token: Option<&str>,
    cents: i64,
    order_ref: &str,
) -> reqwest::Response {
    let mut body = json!({ "member_no": member_no, "amount_cents": cents, "order_ref": order_ref });
    if let Some(t) = token {
        body["lookup_token"] = json!(t);
    }
    post_idem(till, "/api/v1/staff/purchases", &body, &idem()).await
}

async fn lookup_then_purchase_by_member_no(app: TestApp) {
    let m = app.sign_up(&phone(201), "无码").await;
    let till = app.staff_login().await;
    let v = json_ok(lookup(&till, "139 0000 0201").await, StatusCode::OK).await;
    assert_eq!(v["member"]["name"], "无码", "{v}");
    assert_eq!(v["member"]["phone_masked"], "139****0201", "{v}");
    assert_eq!(v["member"]["member_no"], m.me.member_no.as_str(), "{v}");
    assert_eq!(v["expires_in_secs"], 300, "{v}");
    assert!(!v.to_string().contains(&m.phone), "no full phone: {v}");
    let no = m.me.member_no.clone();
    let token = v["lookup_token"].as_str().expect("token").to_string();
    // The purchase form's preview and the purchase take the look-up for the code.
    let p = json_ok(
        till.post(
            "/api/v1/staff/checkout/preview",
            &json!({ "member_no": no, "lookup_token": token, "amount_cents": 8_800 }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(p["member"]["name"], "无码", "{p}");
    assert_eq!(p["quote"]["points_earned"], 88, "{p}");
    let r = json_ok(
        buy_looked_up(&till, &no, Some(&token), 8_800, "LK-1").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["points_earned"], 88, "{r}");
    assert_eq!(m.me().await.points, 88);
    // No card code was spent: the card's current code still works.
    let code = m.card_code().await;
    json_ok(
        till.purchase(&code, 1_000, "LK-2", &idem()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'member.lookup' \
                 AND actor = 'staff:cashier' AND target = 'member:{no}' \
                 AND detail LIKE 'looked up by phone%' AND detail LIKE '%139****0201%'"
            )
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'purchase.record' \
             AND detail LIKE '%order_ref=LK-1 %' AND detail LIKE '%identified=looked up by phone%'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT COUNT(*) FROM audit_log WHERE detail LIKE '%{}%'",
                m.phone
            )
        )
        .await,
        0
    );
}

async fn lookup_by_member_number_and_refusals(app: TestApp) {
    let m = app.sign_up(&phone(202), "会员号").await;
    let till = app.staff_login().await;
    let (no, token) = found(&till, &m.me.member_no).await;
    assert_eq!(no, m.me.member_no);
    json_ok(
        buy_looked_up(&till, &no, Some(&token), 2_000, "LN-1").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'purchase.record' \
             AND detail LIKE '%identified=looked up by member number%'"
        )
        .await,
        1
    );
    // Only a whole phone number or member number; unknown ones are not found.
    for q in ["", "0202", "139****0202", "139000002", "abc"] {
        assert_error(
            lookup(&till, q).await,
            StatusCode::BAD_REQUEST,
            "invalid_input",
        )
        .await;
    }
    assert_error(
        lookup(&till, &phone(299)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // Members and strangers can't look anyone up; an admin without a store neither.
    for c in [&m.client, &app.client()] {
        assert_error(
            lookup(c, &m.phone).await,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        )
        .await;
    }
    let admin = app.admin_login().await;
    assert_error(
        lookup(&admin, &m.phone).await,
        StatusCode::FORBIDDEN,
        "store_required",
    )
    .await;
}

async fn member_no_needs_this_sessions_fresh_token_for_that_member(app: TestApp) {
    let a = app.sign_up(&phone(203), "甲").await;
    let b = app.sign_up(&phone(204), "乙").await;
    let till = app.staff_login().await;
    let other_till = app.staff_login().await;
    let (a_no, a_token) = found(&till, &a.phone).await;
    let b_no = b.me.member_no.clone();
    // No token, a made-up one, another member's, another session's.
    assert_error(
        buy_looked_up(&till, &a_no, None, 1_000, "T-1").await,
        StatusCode::FORBIDDEN,
        "lookup_required",
    )
    .await;
    for t in ["", "x", "99999999999.p.00", &a_token.replace(".p.", ".n.")] {
        assert_error(
            buy_looked_up(&till, &a_no, Some(t), 1_000, "T-1").await,
            StatusCode::FORBIDDEN,
            "lookup_required",
        )
        .await;
    }
    assert_error(
        buy_looked_up(&till, &b_no, Some(&a_token), 1_000, "T-1").await,
        StatusCode::FORBIDDEN,
        "lookup_required",
    )
    .await;
    assert_error(
        buy_looked_up(&other_till, &a_no, Some(&a_token), 1_000, "T-1").await,
        StatusCode::FORBIDDEN,
        "lookup_required",
    )
    .await;
    assert_error(
        other_till
            .post(
                "/api/v1/staff/checkout/preview",
                &json!({ "member_no": a_no, "lookup_token": a_token, "amount_cents": 1_000 }),
            )
            .await,
        StatusCode::FORBIDDEN,
        "lookup_required",
    )
    .await;
    // A card code and a look-up at once: which one is meant?
    let code = a.card_code().await;
    assert_error(
        post_idem(
            &till,
            "/api/v1/staff/purchases",
            &json!({ "code": code, "member_no": a_no, "lookup_token": a_token,
                     "amount_cents": 1_000, "order_ref": "T-1" }),
            &idem(),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_input",
    )
    .await;
    // Five minutes later the token is worthless.
    app.advance_clock(301);
    assert_error(
        buy_looked_up(&till, &a_no, Some(&a_token), 1_000, "T-1").await,
        StatusCode::GONE,
        "lookup_expired",
    )
    .await;
    assert_eq!(count(&app, "SELECT COUNT(*) FROM purchases").await, 0);
    // Looked up again: fine.
    let (_, fresh) = found(&till, &a.phone).await;
    json_ok(
        buy_looked_up(&till, &a_no, Some(&fresh), 1_000, "T-1").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(a.me().await.points, 10);
}

async fn lookups_are_rate_limited_per_session_and_store(app: TestApp) {
    let m = app.sign_up(&phone(205), "限流").await;
    let till = app.staff_login().await;
    for i in 0..20 {
        // Misses count as much as hits.
        let q = if i % 2 == 0 {
            m.phone.clone()
        } else {
            phone(300 + i)
        };
        let want = if i % 2 == 0 {
            StatusCode::OK
        } else {
            StatusCode::NOT_FOUND
        };
        assert_eq!(lookup(&till, &q).await.status(), want, "lookup {i}");
    }
    let resp = lookup(&till, &m.phone).await;
    assert!(resp.headers().get("retry-after").is_some());
    assert_error(resp, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // Other tills of the store: 60 in all.
    let second = app.staff_login().await;
    let third = app.staff_login().await;
    for c in [&second, &third] {
        for _ in 0..20 {
            json_ok(lookup(c, &m.phone).await, StatusCode::OK).await;
        }
    }
    let fourth = app.staff_login().await;
    assert_error(
        lookup(&fourth, &m.phone).await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    )
    .await;
    // Another store's till has its own budget.
    let other = crate::ledger::manager(&app, "S002").await;
    json_ok(lookup(&other, &m.phone).await, StatusCode::OK).await;
    // Ten minutes later the window has passed.
    app.advance_clock(601);
    json_ok(lookup(&till, &m.phone).await, StatusCode::OK).await;
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'member.lookup'"
        )
        .await,
        10 + 40 + 2
    );
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut v) = self.0.lock() {
            v.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn full_phone_never_in_logs(app: TestApp) {
    // nextest runs each test in its own process: this subscriber sees only this test.
    let logs = Captured::default();
    let sink = logs.clone();
    let installed = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .try_init()
        .is_ok();
    let m = app.sign_up(&phone(206), "日志").await;
    let till = app.staff_login().await;
    // Sign-up is not what this test is about: only the look-up and what follows.
    if let Ok(mut v) = logs.0.lock() {
        v.clear();
    }
    let (no, token) = found(&till, &m.phone).await;
    assert_error(
        lookup(&till, &phone(298)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    json_ok(
        buy_looked_up(&till, &no, Some(&token), 1_000, "LG-1").await,
        StatusCode::OK,
    )
    .await;
    let text = logs
        .0
        .lock()
        .map(|v| String::from_utf8_lossy(&v).into_owned())
        .unwrap_or_default();
    if installed {
        assert!(
            text.contains("/api/v1/staff/members/lookup"),
            "the log captured the requests: {text}"
        );
    }
    let national = phone(206);
    let missed = phone(298);
    for p in [&national, &missed] {
        assert!(
            !text.contains(p.as_str()),
            "full phone {p} in the logs:\n{text}"
        );
    }
}
