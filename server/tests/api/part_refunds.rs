//! Part refunds (issue 15, item 9): `amount_cents` on /staff/refunds, several refunds
//! per purchase, never more than was paid (also under concurrent requests), points and
//! growth taken back in proportion and adding up to what was earned; coupons back only
//! with a full refund on the day; the store's purchases for the refund screen.

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{assert_error, idem, json_ok, phone, Client, TestApp};
use crate::ledger::{buy, count, manager, post_idem};
use crate::wallet::{buy_with, coupon_status, give, template, Tpl, DAY};

both_backends!(
    part_refunds_in_sequence_add_up,
    over_refund_is_refused_and_changes_nothing,
    concurrent_part_refunds_never_exceed_paid,
    part_refund_replays_its_answer,
    coupons_come_back_only_with_a_full_refund_on_the_day,
    part_refunds_are_for_the_stores_manager,
    store_purchases_show_paid_and_refunded,
);

async fn part_refund(
    client: &Client,
    order_ref: &str,
    cents: Option<i64>,
    key: &str,
) -> reqwest::Response {
    let mut body = json!({ "order_ref": order_ref, "reason": "部分退货" });
    if let Some(c) = cents {
        body["amount_cents"] = json!(c);
    }
    post_idem(client, "/api/v1/staff/refunds", &body, key).await
}

async fn part_refunds_in_sequence_add_up(app: TestApp) {
    let m = app.sign_up(&phone(101), "分退").await;
    let till = app.staff_login().await;
    let boss = manager(&app, "S001").await;
    // 101.00 earns 101 points and 101 growth.
    let bought = buy(&app, &till, &m, 10_100, "PR-1").await;
    assert_eq!(bought["points_earned"], 101, "{bought}");
    let mut taken = Vec::new();
    for (cents, points, left) in [(3_000, 30, 7_100), (3_000, 30, 4_100), (1, 0, 4_099)] {
        let r = json_ok(
            part_refund(&boss, "PR-1", Some(cents), &idem()).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(r["amount_cents"], cents, "{r}");
        assert_eq!(r["paid_cents"], 10_100, "{r}");
        assert_eq!(r["refunded_cents"], 10_100 - left, "{r}");
        assert_eq!(r["fully_refunded"], false, "{r}");
        assert_eq!(r["points_clawed_back"], points, "{r}");
        assert_eq!(r["growth_clawed_back"], points, "{r}");
        assert_eq!(r["coupons_restored"], 0, "{r}");
        taken.push(points);
    }
    // No amount: the rest, which takes back the rest of the points.
    let r = json_ok(
        part_refund(&boss, "PR-1", None, &idem()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["amount_cents"], 4_099, "{r}");
    assert_eq!(r["refunded_cents"], 10_100, "{r}");
    assert_eq!(r["fully_refunded"], true, "{r}");
    assert_eq!(r["points_clawed_back"], 41, "{r}");
    taken.push(41);
    assert_eq!(taken.iter().sum::<i64>(), 101);
    let me = m.me().await;
    assert_eq!((me.points, me.growth), (0, 0));
    assert_error(
        part_refund(&boss, "PR-1", Some(1), &idem()).await,
        StatusCode::CONFLICT,
        "already_refunded",
    )
    .await;
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM points_ledger WHERE kind = 'refund' AND source_ref = 'PR-1'"
        )
        .await,
        4
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM purchases WHERE order_ref = 'PR-1' AND refunded_cents = 10100 \
             AND refund_points = 101 AND refunded_at IS NOT NULL"
        )
        .await,
        1
    );
    // The window's spend and growth went back to zero with the parts.
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT window_spend_cents FROM members WHERE member_no = '{}'",
                m.me.member_no
            )
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'purchase.refund' \
             AND detail LIKE '%refunded_cents=1 %'"
        )
        .await,
        1
    );
}

async fn over_refund_is_refused_and_changes_nothing(app: TestApp) {
    let m = app.sign_up(&phone(102), "超退").await;
    let till = app.staff_login().await;
    let boss = manager(&app, "S001").await;
    buy(&app, &till, &m, 5_000, "OV-1").await;
    assert_error(
        part_refund(&boss, "OV-1", Some(5_001), &idem()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "refund_too_large",
    )
    .await;
    for bad in [0, -100] {
        assert_error(
            part_refund(&boss, "OV-1", Some(bad), &idem()).await,
            StatusCode::BAD_REQUEST,
            "invalid_amount",
        )
        .await;
    }
    assert_eq!(m.me().await.points, 50);
    json_ok(
        part_refund(&boss, "OV-1", Some(3_000), &idem()).await,
        StatusCode::OK,
    )
    .await;
    assert_error(
        part_refund(&boss, "OV-1", Some(2_001), &idem()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "refund_too_large",
    )
    .await;
    let me = m.me().await;
    assert_eq!((me.points, me.growth), (20, 20));
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM points_ledger WHERE kind = 'refund'"
        )
        .await,
        1
    );
}

async fn concurrent_part_refunds_never_exceed_paid(app: TestApp) {
    let m = app.sign_up(&phone(103), "并发").await;
    let till = app.staff_login().await;
    let boss = manager(&app, "S001").await;
    buy(&app, &till, &m, 10_000, "CC-1").await;
    buy(&app, &till, &m, 1_000, "CC-2").await;
    // 20 × 7.00 = 140.00 asked for, 100.00 paid: 14 fit.
    let answers = join_all((0..20).map(|_| {
        let boss = boss.clone();
        async move {
            let resp = part_refund(&boss, "CC-1", Some(700), &idem()).await;
            let status = resp.status();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            (status, body)
        }
    }))
    .await;
    let ok = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    let refused = answers
        .iter()
        .filter(|(s, b)| {
            *s == StatusCode::UNPROCESSABLE_ENTITY && b["error"]["code"] == "refund_too_large"
        })
        .count();
    assert_eq!((ok, refused), (14, 6), "{answers:?}");
    let clawed: i64 = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::OK)
        .map(|(_, b)| b["points_clawed_back"].as_i64().unwrap_or(0))
        .sum();
    // floor(100 × 98/100): what 98.00 of 100.00 earns back.
    assert_eq!(clawed, 98);
    assert_eq!(
        count(
            &app,
            "SELECT refunded_cents FROM purchases WHERE order_ref = 'CC-1'"
        )
        .await,
        9_800
    );
    let me = m.me().await;
    assert_eq!((me.points, me.growth), (110 - 98, 110 - 98));
    // The last 2.00 still refunds, and takes the last 2 points.
    let r = json_ok(
        part_refund(&boss, "CC-1", None, &idem()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (&r["amount_cents"], &r["points_clawed_back"]),
        (&json!(200), &json!(2))
    );
}

async fn part_refund_replays_its_answer(app: TestApp) {
    let m = app.sign_up(&phone(104), "重放").await;
    let till = app.staff_login().await;
    let boss = manager(&app, "S001").await;
    buy(&app, &till, &m, 8_000, "RP-1").await;
    let key = idem();
    let first = json_ok(
        part_refund(&boss, "RP-1", Some(2_000), &key).await,
        StatusCode::OK,
    )
    .await;
    let again = part_refund(&boss, "RP-1", Some(2_000), &key).await;
    assert_eq!(
        again
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    assert_eq!(json_ok(again, StatusCode::OK).await, first);
    // Same key, another amount (or the rest): another request.
    for cents in [Some(2_001), None] {
        assert_error(
            part_refund(&boss, "RP-1", cents, &key).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
        )
        .await;
    }
    assert_eq!(
        count(
            &app,
            "SELECT refunded_cents FROM purchases WHERE order_ref = 'RP-1'"
        )
        .await,
        2_000
    );
    assert_eq!(m.me().await.points, 60);
}

async fn coupons_come_back_only_with_a_full_refund_on_the_day(app: TestApp) {
    let m = app.sign_up(&phone(105), "用券").await;
    let no = m.me.member_no.clone();
    let t = template(
        &app,
        &Tpl {
            name: "立减10元",
            off: 1000,
            ..Tpl::default()
        },
    )
    .await;
    let given = give(&app, &no, t, 2).await;
    let (c1, c2) = (given[0], given[1]);
    let till = app.staff_login().await;
    let boss = manager(&app, "S001").await;
    let [code1, code2, _] = m.three_codes().await;
    json_ok(
        buy_with(&till, &code1, 6_000, "CP-1", &idem(), &[c1]).await,
        StatusCode::OK,
    )
    .await;
    // Paid 50.00. A part refund on the day leaves the coupon used...
    let r = json_ok(
        part_refund(&boss, "CP-1", Some(2_000), &idem()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["coupons_restored"], 0, "{r}");
    assert_eq!(coupon_status(&app, c1).await, "used");
    // ...the refund that completes it on the day gives it back.
    let r = json_ok(
        part_refund(&boss, "CP-1", None, &idem()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (&r["amount_cents"], &r["coupons_restored"]),
        (&json!(3_000), &json!(1)),
        "{r}"
    );
    assert_eq!(coupon_status(&app, c1).await, "issued");

    // Completed on a later day: the coupon stays used.
    json_ok(
        buy_with(&till, &code2, 6_000, "CP-2", &idem(), &[c2]).await,
        StatusCode::OK,
    )
    .await;
    json_ok(
        part_refund(&boss, "CP-2", Some(1_000), &idem()).await,
        StatusCode::OK,
    )
    .await;
    app.advance_clock(DAY);
    let boss = manager(&app, "S001").await;
    let r = json_ok(
        part_refund(&boss, "CP-2", None, &idem()).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (&r["fully_refunded"], &r["coupons_restored"]),
        (&json!(true), &json!(0)),
        "{r}"
    );
    assert_eq!(coupon_status(&app, c2).await, "used");
}

async fn part_refunds_are_for_the_stores_manager(app: TestApp) {
    let m = app.sign_up(&phone(106), "权限").await;
    let till = app.staff_login().await;
    let other_store = manager(&app, "S002").await;
    buy(&app, &till, &m, 10_000, "AU-1").await;
    assert_error(
        part_refund(&till, "AU-1", Some(1_000), &idem()).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_error(
        part_refund(&other_store, "AU-1", Some(1_000), &idem()).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_error(
        till.get("/api/v1/staff/purchases").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    // Another store's manager sees none of this store's purchases, also by order ref.
    let v = json_ok(
        other_store.get("/api/v1/staff/purchases").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v, json!({ "items": [], "next": null }));
    let v = json_ok(
        other_store
            .get("/api/v1/staff/purchases?order_ref=AU-1")
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["items"], json!([]));
    assert_eq!(m.me().await.points, 100);
}

async fn store_purchases_show_paid_and_refunded(app: TestApp) {
    let m = app.sign_up(&phone(107), "列表").await;
    let till = app.staff_login().await;
    let boss = manager(&app, "S001").await;
    for i in 0..23 {
        buy(&app, &till, &m, 1_000 + i, &format!("L-{i:02}")).await;
    }
    json_ok(
        part_refund(&boss, "L-22", Some(500), &idem()).await,
        StatusCode::OK,
    )
    .await;
    let page = json_ok(boss.get("/api/v1/staff/purchases").await, StatusCode::OK).await;
    let items = page["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 20, "{page}");
    assert_eq!(items[0]["order_ref"], "L-22");
    assert_eq!(items[0]["paid_cents"], 1_022);
    assert_eq!(items[0]["refunded_cents"], 500);
    assert_eq!(items[0]["points_clawed_back"], 4);
    assert_eq!(items[0]["fully_refunded"], false);
    assert_eq!(items[0]["member_name"], "列表");
    assert_eq!(items[0]["phone_masked"], "139****0107");
    assert!(
        !page.to_string().contains(&m.phone),
        "no full phone: {page}"
    );
    let next = page["next"].as_i64().expect("a next page");
    let rest = json_ok(
        boss.get(&format!("/api/v1/staff/purchases?before={next}"))
            .await,
        StatusCode::OK,
    )
    .await;
    let refs: Vec<&str> = rest["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|i| i["order_ref"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(refs, ["L-02", "L-01", "L-00"]);
    assert_eq!(rest["next"], Value::Null);
    let one = json_ok(
        boss.get("/api/v1/staff/purchases?order_ref=%20L-05%20")
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(one["items"][0]["order_ref"], "L-05", "{one}");
    assert_eq!(one["items"].as_array().map(Vec::len), Some(1));
    assert_error(
        boss.get("/api/v1/staff/purchases?before=x").await,
        StatusCode::BAD_REQUEST,
        "invalid_input",
    )
    .await;
}
