//! Manual points adjustments by an admin: credit under the current rule, debit soonest
//! expiry first and never below zero, validated, idempotent, audit-logged, admin only.

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{assert_error, idem, json_ok, phone, TestApp};
use crate::ledger::{adjust, batches, count, manager, post_idem, set_rule};

both_backends!(
    credit_and_debit_with_audit,
    debit_beyond_balance_is_refused,
    invalid_adjustments_are_refused,
    replays_and_concurrent_retries_apply_once,
    only_admins_adjust_or_set_rules,
);

async fn credit_and_debit_with_audit(app: TestApp) {
    let m = app.sign_up(&phone(1), "张三").await;
    let no = m.me.member_no.clone();
    let admin = app.admin_login().await;
    set_rule(&admin, "days", 30).await;
    let r = json_ok(
        adjust(&admin, &no, 500, " 生日礼遇 / birthday ", &idem()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        r,
        json!({ "member_no": no, "points_changed": 500, "points": 500 })
    );
    // The credit is a batch under the current rule.
    let b = batches(&app, &no).await;
    assert_eq!((b[0].0, b[0].1), (500, 500));
    assert!(b[0].2.is_some());
    let r = json_ok(
        adjust(&admin, &no, -200, "更正 / fix", &idem()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["points"], 300);
    assert_eq!(r["points_changed"], -200);
    let me = m.me().await;
    assert_eq!(
        (me.points, me.growth),
        (300, 0),
        "adjustments don't move growth"
    );

    let h = m.points_history().await;
    let items = h["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 2, "{h}");
    assert_eq!(
        (&items[0]["kind"], &items[0]["points"], &items[0]["reason"]),
        (&json!("adjust"), &json!(-200), &json!("更正 / fix")),
        "{h}"
    );
    assert_eq!(items[1]["reason"], "生日礼遇 / birthday", "trimmed: {h}");
    assert!(items[1]["expires_at"].is_string(), "{h}");
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'points.adjust' \
                 AND actor = 'staff:admin' AND target = 'member:{no}' \
                 AND detail LIKE 'delta=500 %' AND detail LIKE '%生日礼遇 / birthday'"
            )
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'points.adjust'"
        )
        .await,
        2
    );
}

async fn debit_beyond_balance_is_refused(app: TestApp) {
    let m = app.sign_up(&phone(2), "李四").await;
    let no = m.me.member_no.clone();
    let admin = app.admin_login().await;
    json_ok(
        adjust(&admin, &no, 100, "补偿 / goodwill", &idem()).await,
        StatusCode::OK,
    )
    .await;
    assert_error(
        adjust(&admin, &no, -101, "更正 / fix", &idem()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "insufficient_points",
    )
    .await;
    assert_eq!(m.me().await.points, 100);
    // The refused request left no trace; the same key may be used for a valid one.
    let key = idem();
    assert_error(
        adjust(&admin, &no, -1_000, "更正 / fix", &key).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "insufficient_points",
    )
    .await;
    let r = json_ok(
        adjust(&admin, &no, -100, "清零 / zero", &idem()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["points"], 0);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'points.adjust'"
        )
        .await,
        2
    );
}

async fn invalid_adjustments_are_refused(app: TestApp) {
    let m = app.sign_up(&phone(3), "王五").await;
    let no = m.me.member_no.clone();
    let admin = app.admin_login().await;
    let path = format!("/api/v1/admin/members/{no}/points");
    for body in [
        json!({ "points": 0, "reason": "x" }),
        json!({ "points": 1_000_001, "reason": "x" }),
        json!({ "points": -1_000_001, "reason": "x" }),
        json!({ "points": i64::MIN, "reason": "x" }),
        json!({ "points": 10, "reason": "" }),
        json!({ "points": 10, "reason": "   " }),
        json!({ "points": 10, "reason": "a\u{0}b" }),
        json!({ "points": 10, "reason": "长".repeat(201) }),
        json!({ "points": 10 }),
        json!({ "points": "10", "reason": "x" }),
        json!({ "points": 1.5, "reason": "x" }),
    ] {
        assert_error(
            post_idem(&admin, &path, &body, &idem()).await,
            StatusCode::BAD_REQUEST,
            "invalid_input",
        )
        .await;
    }
    assert_error(
        admin
            .post(&path, &json!({ "points": 10, "reason": "x" }))
            .await,
        StatusCode::BAD_REQUEST,
        "idempotency_key_required",
    )
    .await;
    assert_error(
        adjust(&admin, "9999999999", 10, "x", &idem()).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // The limits themselves are fine.
    json_ok(
        adjust(&admin, &no, 1_000_000, &"长".repeat(200), &idem()).await,
        StatusCode::OK,
    )
    .await;
    json_ok(
        adjust(&admin, &no, -1_000_000, "x", &idem()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(m.me().await.points, 0);
}

async fn replays_and_concurrent_retries_apply_once(app: TestApp) {
    let m = app.sign_up(&phone(4), "赵六").await;
    let no = m.me.member_no.clone();
    let admin = app.admin_login().await;
    let key = idem();
    let first = adjust(&admin, &no, 40, "补偿 / goodwill", &key).await;
    assert_eq!(first.status(), StatusCode::OK);
    let first: Value = first.json().await.expect("json");
    let again = adjust(&admin, &no, 40, "补偿 / goodwill", &key).await;
    assert_eq!(
        again
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    assert_eq!(again.json::<Value>().await.expect("json"), first);
    for (points, reason, member) in [
        (41, "补偿 / goodwill", no.as_str()),
        (40, "other", no.as_str()),
        (40, "补偿 / goodwill", "1234567890"),
    ] {
        assert_error(
            adjust(&admin, member, points, reason, &key).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
        )
        .await;
    }
    assert_eq!(m.me().await.points, 40);

    // A flaky network: the console sends the same debit ten times at once.
    let key = idem();
    let answers = join_all((0..10).map(|_| {
        let admin = admin.clone();
        let no = no.clone();
        let key = key.clone();
        async move {
            let resp = adjust(&admin, &no, -15, "兑换 / spend", &key).await;
            let status = resp.status();
            (status, resp.json::<Value>().await.unwrap_or(Value::Null))
        }
    }))
    .await;
    for (status, body) in &answers {
        assert!(
            *status == StatusCode::OK
                || (*status == StatusCode::CONFLICT
                    && body["error"]["code"] == "request_in_progress"),
            "{status} {body}"
        );
        if *status == StatusCode::OK {
            assert_eq!(body["points"], 25, "{body}");
        }
    }
    assert_eq!(m.me().await.points, 25);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM points_ledger WHERE kind = 'adjust'"
        )
        .await,
        2
    );
}

async fn only_admins_adjust_or_set_rules(app: TestApp) {
    let m = app.sign_up(&phone(5), "孙七").await;
    let no = m.me.member_no.clone();
    let cashier = app.staff_login().await;
    let boss = manager(&app, "S001").await;
    let anonymous = app.client();
    let adjust_path = format!("/api/v1/admin/members/{no}/points");
    let body = json!({ "points": 10, "reason": "x" });
    for (who, client, status, code) in [
        ("cashier", &cashier, StatusCode::FORBIDDEN, "forbidden"),
        ("manager", &boss, StatusCode::FORBIDDEN, "forbidden"),
        (
            "member",
            &m.client,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        ),
        (
            "anonymous",
            &anonymous,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        ),
    ] {
        // Role is checked before the key and body.
        for key in [Some(idem()), None] {
            let mut req = client
                .http
                .post(format!("{}{adjust_path}", client.base))
                .json(&body);
            if let Some(k) = &key {
                req = req.header("Idempotency-Key", k);
            }
            let resp = req.send().await.expect("POST");
            assert_eq!(resp.status(), status, "{who} adjust key={key:?}");
            assert_error(resp, status, code).await;
        }
        assert_error(client.get("/api/v1/admin/points-rules").await, status, code).await;
        let resp = client
            .http
            .put(format!("{}/api/v1/admin/points-rules", client.base))
            .json(&json!({ "expiry": "never", "n": 0 }))
            .send()
            .await
            .expect("PUT");
        assert_error(resp, status, code).await;
    }
    assert_eq!(m.me().await.points, 0);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'points.%'"
        )
        .await,
        0
    );
    let admin = app.admin_login().await;
    let rules = json_ok(
        admin.get("/api/v1/admin/points-rules").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(rules["expiry"], "year_end");
}
