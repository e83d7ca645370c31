//! Limits must hold when the requests come in parallel, not only one after another:
//! a script fires many at once.

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{assert_guesses_throttled, phone, TestApp, STAFF_PASS, STAFF_USER};

both_backends!(
    parallel_otp_guesses_get_five_tries,
    parallel_sends_respect_the_ip_limit,
    parallel_login_guesses_are_throttled,
    parallel_sends_to_one_phone_send_once,
);

async fn parallel_otp_guesses_get_five_tries(app: TestApp) {
    let p = phone(1);
    let c = app.client();
    let resp = c.post("/api/v1/auth/otp", &json!({ "phone": p })).await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let code: u32 = app.otp_for(&p).await.parse().expect("digits");
    let guesses = (1..=30u32).map(|i| {
        let c = c.clone();
        let p = p.clone();
        tokio::spawn(async move {
            let body = json!({
                "phone": p, "code": format!("{:06}", (code + i) % 1_000_000),
                "name": "x", "privacy_consent": true
            });
            let resp = c.post("/api/v1/auth/verify", &body).await;
            let status = resp.status();
            let v: serde_json::Value = resp.json().await.unwrap_or_default();
            (
                status,
                v["error"]["code"].as_str().unwrap_or("").to_string(),
            )
        })
    });
    let results: Vec<_> = join_all(guesses)
        .await
        .into_iter()
        .map(|r| r.expect("task"))
        .collect();
    let wrong = results.iter().filter(|(_, c)| c == "invalid_code").count();
    assert!(
        wrong <= 5,
        "{wrong} parallel guesses were checked (max 5): {results:?}"
    );
    assert!(
        results
            .iter()
            .all(|(_, c)| c == "invalid_code" || c == "otp_locked"),
        "{results:?}"
    );
    let resp = c
        .post(
            "/api/v1/auth/verify",
            &json!({ "phone": p, "code": format!("{code:06}"), "name": "x", "privacy_consent": true }),
        )
        .await;
    let v: serde_json::Value = resp.json().await.unwrap_or_default();
    assert_eq!(v["error"]["code"], "otp_locked", "{v}");
}

async fn parallel_sends_respect_the_ip_limit(app: TestApp) {
    let c = app.client();
    let sends = (0..260u32).map(|i| {
        let c = c.clone();
        tokio::spawn(async move {
            c.post("/api/v1/auth/otp", &json!({ "phone": phone(2000 + i) }))
                .await
                .status()
        })
    });
    let statuses: Vec<StatusCode> = join_all(sends)
        .await
        .into_iter()
        .map(|r| r.expect("task"))
        .collect();
    let accepted = statuses
        .iter()
        .filter(|s| **s == StatusCode::ACCEPTED)
        .count();
    let limited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(accepted + limited, statuses.len(), "{statuses:?}");
    assert!(accepted >= 200, "a busy store gets 200 an hour: {accepted}");
    let sent = app.db.scalar_i64("SELECT COUNT(*) FROM otp_sends").await;
    assert_eq!(sent, accepted as i64);
    // The server's limit is 200 per IP per hour; parallel requests must not overshoot it.
    assert_eq!(
        accepted, 200,
        "per-IP limit overshot under parallel sends ({accepted} accepted)"
    );
}

async fn parallel_login_guesses_are_throttled(app: TestApp) {
    let guesses = (0..20).map(|i| {
        let c = app.client();
        tokio::spawn(async move {
            let resp = c
                .post(
                    "/api/v1/staff/login",
                    &json!({ "username": STAFF_USER, "password": format!("guess-{i}") }),
                )
                .await;
            resp.status()
        })
    });
    // Sequentially one client waits after 5 failures on an account; 20 parallel guesses
    // must not get 20 password checks.
    assert_guesses_throttled(guesses, StatusCode::UNAUTHORIZED, 5, "password guesses").await;
    // The same client address waits, even with the right password.
    let c = app.client();
    let resp = c
        .post(
            "/api/v1/staff/login",
            &json!({ "username": STAFF_USER, "password": STAFF_PASS }),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
}

async fn parallel_sends_to_one_phone_send_once(app: TestApp) {
    let p = phone(3);
    let sends = (0..12).map(|_| {
        let c = app.client();
        let p = p.clone();
        tokio::spawn(async move {
            c.post("/api/v1/auth/otp", &json!({ "phone": p }))
                .await
                .status()
        })
    });
    let statuses: Vec<StatusCode> = join_all(sends)
        .await
        .into_iter()
        .map(|r| r.expect("task"))
        .collect();
    let accepted = statuses
        .iter()
        .filter(|s| **s == StatusCode::ACCEPTED)
        .count();
    assert_eq!(accepted, 1, "one SMS per phone per minute: {statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::ACCEPTED || *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    assert_eq!(
        app.db
            .scalar_i64(&format!(
                "SELECT COUNT(*) FROM outbox WHERE to_phone = '+86{p}'"
            ))
            .await,
        1
    );
}
