//! Health, metrics, the OpenAPI document and unknown routes.

use reqwest::StatusCode;
use serde_json::Value;

use crate::common::{assert_error, idem, json_ok, ledger_mismatches, phone, TestApp};

both_backends!(
    healthz_and_metrics,
    openapi_lists_every_route,
    unknown_api_route_is_json_404,
    harness_ledger_check_catches_drift,
    time_stands_still_in_tests,
);

/// `/api/v1` paths that must be documented (the openapi unit test checks the rest).
const API_PATHS: &[&str] = &[
    "/api/v1/auth/otp",
    "/api/v1/auth/verify",
    "/api/v1/auth/logout",
    "/api/v1/me",
    "/api/v1/me/card-code",
    "/api/v1/me/card-key",
    "/api/v1/me/points/history",
    "/api/v1/tiers",
    "/api/v1/staff/login",
    "/api/v1/staff/logout",
    "/api/v1/staff/me",
    "/api/v1/staff/verify",
    "/api/v1/staff/purchases",
    "/api/v1/admin/login",
    "/api/v1/admin/staff/{username}/unlock",
    "/api/v1/dev/outbox",
    "/api/v1/staff/refunds",
    "/api/v1/admin/points-rules",
    "/api/v1/admin/members/{member_no}/points",
    "/api/v1/me/coupons",
    "/api/v1/me/coupons/summary",
    "/api/v1/me/coupons/seen",
    "/api/v1/me/coupons/{id}",
    "/api/v1/me/profile",
    "/api/v1/staff/checkout/preview",
    "/api/v1/admin/coupon-templates",
    "/api/v1/admin/coupon-templates/{id}",
    "/api/v1/admin/campaigns",
    "/api/v1/admin/campaigns/{id}",
    "/api/v1/admin/coupons/issue",
    "/api/v1/claims/{token}",
    "/api/v1/me/claims/{token}",
];

async fn healthz_and_metrics(app: TestApp) {
    let c = app.client();
    let h = json_ok(c.get("/healthz").await, StatusCode::OK).await;
    assert_eq!(h, serde_json::json!({ "status": "ok" }));

    // Some traffic first, so the counters have something to count.
    let _ = c.get("/api/v1/tiers").await;
    let resp = app.metrics().await;
    assert_eq!(resp.status(), StatusCode::OK);
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(ct.starts_with("text/plain"), "metrics content-type {ct}");
    let text = resp.text().await.unwrap_or_default();
    assert!(
        text.contains("# TYPE "),
        "Prometheus text format: {text:.500}"
    );
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let value = line.rsplit(' ').next().unwrap_or("");
        assert!(
            value.parse::<f64>().is_ok(),
            "metric line without a numeric value: {line}"
        );
    }
}

async fn openapi_lists_every_route(app: TestApp) {
    let doc: Value = json_ok(app.client().get("/api/openapi.json").await, StatusCode::OK).await;
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "OpenAPI 3: {:?}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().expect("paths object");
    let missing: Vec<&str> = API_PATHS
        .iter()
        .copied()
        .filter(|p| !paths.contains_key(*p))
        .collect();
    assert!(
        missing.is_empty(),
        "missing from /api/openapi.json: {missing:?}; it has {:?}",
        paths.keys().collect::<Vec<_>>()
    );
    // The purchase operation documents its Idempotency-Key header.
    let purchase = &paths["/api/v1/staff/purchases"]["post"];
    let params = purchase["parameters"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        params.iter().any(|p| p["name"]
            .as_str()
            .is_some_and(|n| n.eq_ignore_ascii_case("idempotency-key"))),
        "Idempotency-Key not documented: {purchase}"
    );
    assert!(
        doc["components"]["schemas"]["ErrorBody"].is_object(),
        "ErrorBody schema"
    );
}

async fn unknown_api_route_is_json_404(app: TestApp) {
    let c = app.client();
    assert_error(
        c.get("/api/v1/nope").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_error(
        c.post("/api/v1/nope", &serde_json::json!({})).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_error(c.get("/api/nope").await, StatusCode::NOT_FOUND, "not_found").await;
    // A known path with the wrong method: JSON too.
    assert_error(
        c.get("/api/v1/auth/otp").await,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await;
    // SPA fallback is for pages, never for the API.
    assert_error(
        c.get("/api/v1/me/nope/deeper").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // Pages fall back to the apps.
    let page = c.get("/some/page").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap_or_default().contains("member"));
    let staff = c.get("/staff/scan").await;
    assert_eq!(staff.status(), StatusCode::OK);
    assert!(staff.text().await.unwrap_or_default().contains("staff"));
}

/// The after-test ledger check is only worth something if it notices a drift.
async fn harness_ledger_check_catches_drift(app: TestApp) {
    let m = app.sign_up(&phone(1), "张三").await;
    let staff = app.staff_login().await;
    let resp = staff
        .purchase(&m.card_code().await, 5_000, "H-1", &idem())
        .await;
    assert!(resp.status().is_success());
    assert_eq!(ledger_mismatches(&app.db).await, 0);
    app.db
        .execute("UPDATE members SET points = points + 1")
        .await;
    assert_eq!(ledger_mismatches(&app.db).await, 1, "drift must be seen");
    app.db
        .execute("UPDATE members SET points = points - 1")
        .await;
    assert_eq!(ledger_mismatches(&app.db).await, 0);
}

/// Tests read "now", let the server stamp rows, and run jobs at the "now" they read: with
/// a clock that ticks, a second (or step, or day) boundary between the reads made tests
/// fail now and then (`tier_job::member_day_messages_once_for_everyone`). The harness's
/// clock stands still until a test moves it.
async fn time_stands_still_in_tests(app: TestApp) {
    let before = app.now();
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let m = app.sign_up(&phone(2), "李四").await;
    assert_eq!(app.now(), before, "the test clock moved by itself");
    let id = m.me.member_no.clone();
    let stamped = app
        .db
        .scalar_i64(&format!(
            "SELECT created_at FROM members WHERE member_no = '{id}'"
        ))
        .await;
    assert_eq!(stamped, before, "the server stamped another instant");
    app.advance_clock(90);
    assert_eq!(app.now(), before + 90);
}
