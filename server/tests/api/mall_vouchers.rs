//! Coupon items in the mall: redeeming puts the template's coupons in the wallet in the
//! same transaction (the order is collected at once), a refusal to issue leaves nothing
//! behind, the template's total holds under concurrent redemptions, and a refund voids
//! the unused coupons (refused once one was used).

use std::sync::Arc;

use futures::future::join_all;
use member_core::coupons::Validity;
use member_core::dto::{AdminMallItem, CancelOrderResult, MallItem, MallOrder, MallOrderResult};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::sync::Barrier;

use crate::common::{assert_error, idem, json_ok, phone, Client, Member, TestApp};
use crate::coupon_templates::{amount_template, template_of};
use crate::ledger::post_idem;
use crate::mall::{cancel, grant, manager_login, new_item, redeem, redeemed, stock_of};

both_backends!(
    voucher_redeem_puts_coupons_in_wallet,
    voucher_issue_refusals_change_nothing,
    voucher_item_validation,
    voucher_concurrent_redemptions_stop_at_template_total,
    voucher_refund_by_manager_voids_unused_coupons,
    voucher_refund_refused_once_a_coupon_was_used,
);

async fn q(app: &TestApp, sql: &str) -> i64 {
    app.db.scalar_i64(sql).await
}

/// A coupon item (price 80, stock 10 unless `extra` says otherwise) on `template`.
async fn voucher_item(admin: &Client, template: i64, extra: Value) -> i64 {
    let mut body = json!({ "coupon_template_id": template });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    // No `kind`: a coupon item is a voucher.
    let mut req = json!({ "name": "满30减5券", "points_price": 80, "stock": 10,
                          "image_url": "/mall/img/coupon.svg" });
    if let (Some(r), Some(b)) = (req.as_object_mut(), body.as_object()) {
        for (k, v) in b {
            r.insert(k.clone(), v.clone());
        }
    }
    let v = json_ok(
        admin.post("/api/v1/admin/mall/items", &req).await,
        StatusCode::CREATED,
    )
    .await;
    v["id"].as_i64().expect("item id")
}

/// What a refused redemption must leave alone.
async fn footprint(app: &TestApp) -> Vec<i64> {
    let mut out = Vec::new();
    for sql in [
        "SELECT CAST(COALESCE(SUM(points), 0) AS BIGINT) FROM members",
        "SELECT CAST(COALESCE(SUM(stock), 0) AS BIGINT) FROM mall_items",
        "SELECT COUNT(*) FROM mall_orders",
        "SELECT COUNT(*) FROM points_ledger",
        "SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT) FROM mall_redemption_counts",
        "SELECT COUNT(*) FROM coupons",
        "SELECT CAST(COALESCE(SUM(issued_count), 0) AS BIGINT) FROM coupon_templates",
        "SELECT CAST(COALESCE(SUM(issued), 0) AS BIGINT) FROM coupon_member_counts",
        "SELECT COUNT(*) FROM idempotency_keys",
        "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'mall.%'",
    ] {
        out.push(q(app, sql).await);
    }
    out
}

async fn order_coupons(app: &TestApp, code: &str, status: &str) -> i64 {
    q(
        app,
        &format!(
            "SELECT COUNT(*) FROM coupons WHERE source = 'mall' AND source_ref = '{code}' \
             AND status = '{status}'"
        ),
    )
    .await
}

async fn voucher_redeem_puts_coupons_in_wallet(app: TestApp) {
    let admin = app.admin_login().await;
    let t = amount_template(&admin, "满30减5", 500, json!({})).await;
    let item = voucher_item(&admin, t, json!({})).await;
    let m = app.sign_up(&phone(60), "林冲").await;
    let member_id = q(
        &app,
        &format!(
            "SELECT id FROM members WHERE member_no = '{}'",
            m.me.member_no
        ),
    )
    .await;
    grant(&app, &m, 500).await;

    // The item says what it is, to the member and to the brand.
    let listed: Vec<MallItem> = serde_json::from_value(
        json_ok(m.client.get("/api/v1/mall/items").await, StatusCode::OK).await,
    )
    .expect("[MallItem]");
    let mine = listed.iter().find(|i| i.id == item).expect("listed");
    assert_eq!(mine.coupon_template_id, Some(t));
    assert_eq!(mine.kind, "voucher");
    let admin_items: Vec<AdminMallItem> = serde_json::from_value(
        json_ok(admin.get("/api/v1/admin/mall/items").await, StatusCode::OK).await,
    )
    .expect("[AdminMallItem]");
    assert_eq!(
        admin_items
            .iter()
            .find(|i| i.id == item)
            .and_then(|i| i.coupon_template_id),
        Some(t)
    );

    let key = idem();
    let resp = redeem(&m.client, item, 2, &key).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let body = resp.text().await.expect("body");
    let r: MallOrderResult = serde_json::from_str(&body).expect("MallOrderResult");
    assert_eq!(r.status, "collected");
    assert_eq!((r.points_spent, r.points, r.quantity), (160, 340, 2));

    // Two coupons of the template, from this order, valid 7 days from now.
    let code = r.order_code.clone();
    assert_eq!(order_coupons(&app, &code, "issued").await, 2);
    let issued_at = q(
        &app,
        &format!("SELECT MIN(issued_at) FROM coupons WHERE source_ref = '{code}'"),
    )
    .await;
    assert!((issued_at - app.now()).abs() <= 5);
    let (from, until) = Validity::Days(7).window(issued_at);
    assert_eq!(
        q(
            &app,
            &format!(
                "SELECT COUNT(*) FROM coupons WHERE source_ref = '{code}' AND source = 'mall' \
                 AND member_id = {member_id} AND template_id = {t} AND valid_from = {from} \
                 AND expires_at = {until} AND used_at IS NULL"
            ),
        )
        .await,
        2
    );
    assert_eq!(m.me().await.points, 340);
    assert_eq!(stock_of(&app, item).await, 8);
    assert_eq!(template_of(&admin, t).await.issued, 2);
    // Collected at once, at no store.
    assert_eq!(
        q(
            &app,
            &format!(
                "SELECT COUNT(*) FROM mall_orders WHERE order_code = '{code}' AND status = \
                 'collected' AND collected_at IS NOT NULL AND collected_store_id IS NULL"
            ),
        )
        .await,
        1
    );
    let order: MallOrder = serde_json::from_value(
        json_ok(
            m.client
                .get(&format!("/api/v1/me/mall/orders/{code}"))
                .await,
            StatusCode::OK,
        )
        .await,
    )
    .expect("MallOrder");
    assert_eq!(order.status, "collected");
    assert!(order.collected_at.is_some());
    assert_eq!(order.collected_store_name, None);
    // Nothing to hand over at the counter.
    let staff = app.staff_login().await;
    assert_error(
        staff
            .post_empty(&format!("/api/v1/staff/mall/orders/{code}/collect"))
            .await,
        StatusCode::CONFLICT,
        "order_closed",
    )
    .await;
    // In the wallet.
    let wallet = json_ok(
        m.client.get("/api/v1/me/coupons?status=usable").await,
        StatusCode::OK,
    )
    .await;
    let from_mall = wallet
        .as_array()
        .expect("array")
        .iter()
        .filter(|c| c["source"] == "mall" && c["template_id"] == t)
        .count();
    assert_eq!(from_mall, 2, "{wallet}");

    // A replay is the stored answer: no more coupons.
    let again = redeem(&m.client, item, 2, &key).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.text().await.expect("body"), body);
    assert_eq!(
        q(
            &app,
            &format!("SELECT COUNT(*) FROM coupons WHERE template_id = {t}")
        )
        .await,
        2
    );
    assert_eq!(m.me().await.points, 340);
}

async fn voucher_issue_refusals_change_nothing(app: TestApp) {
    let admin = app.admin_login().await;
    let m = app.sign_up(&phone(61), "武松").await;
    grant(&app, &m, 1000).await;

    // The template's total: 1 coupon left for a redemption of 2.
    let capped = amount_template(&admin, "限量券", 500, json!({ "total_limit": 1 })).await;
    let capped_item = voucher_item(&admin, capped, json!({ "stock": 50 })).await;
    let before = footprint(&app).await;
    assert_error(
        redeem(&m.client, capped_item, 2, &idem()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "coupons_exhausted",
    )
    .await;
    assert_eq!(footprint(&app).await, before);
    redeemed(&m.client, capped_item, 1).await;
    let other = app.sign_up(&phone(62), "鲁智深").await;
    grant(&app, &other, 1000).await;
    let before = footprint(&app).await;
    let key = idem();
    assert_error(
        redeem(&other.client, capped_item, 1, &key).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "coupons_exhausted",
    )
    .await;
    assert_eq!(footprint(&app).await, before);
    assert_eq!(stock_of(&app, capped_item).await, 49);

    // A template for a higher tier than the member's.
    let gold = amount_template(&admin, "金卡券", 500, json!({ "required_tier": "gold" })).await;
    let gold_item = voucher_item(&admin, gold, json!({})).await;
    let before = footprint(&app).await;
    assert_error(
        redeem(&m.client, gold_item, 1, &idem()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "tier_required",
    )
    .await;
    assert_eq!(footprint(&app).await, before);

    // The template's per-member limit.
    let once = amount_template(&admin, "每人一张", 500, json!({ "per_member_limit": 1 })).await;
    let once_item = voucher_item(&admin, once, json!({})).await;
    let before = footprint(&app).await;
    assert_error(
        redeem(&m.client, once_item, 2, &idem()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "limit_reached",
    )
    .await;
    assert_eq!(footprint(&app).await, before);
    redeemed(&m.client, once_item, 1).await;
    let before = footprint(&app).await;
    assert_error(
        redeem(&m.client, once_item, 1, &idem()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "limit_reached",
    )
    .await;
    assert_eq!(footprint(&app).await, before);

    // A template whose fixed window is over: the item can't be had now.
    let ending = create_fixed(&admin, app.now() + 3600).await;
    let ending_item = voucher_item(&admin, ending, json!({})).await;
    let before = footprint(&app).await;
    app.advance_clock(7200);
    assert_error(
        redeem(&m.client, ending_item, 1, &idem()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "item_unavailable",
    )
    .await;
    assert_eq!(footprint(&app).await, before);
}

/// A template valid until `until` (unix seconds).
async fn create_fixed(admin: &Client, until: i64) -> i64 {
    let until = chrono::DateTime::from_timestamp(until, 0)
        .expect("time")
        .to_rfc3339();
    crate::coupon_templates::create_template(
        admin,
        json!({ "name": "限时券", "valid_until": until,
                "benefit": { "kind": "amount", "amount_off_cents": 300 } }),
    )
    .await
}

async fn voucher_item_validation(app: TestApp) {
    let admin = app.admin_login().await;
    let t = amount_template(&admin, "满30减5", 500, json!({})).await;
    let items_before = q(&app, "SELECT COUNT(*) FROM mall_items").await;
    for body in [
        json!({ "name": "x", "points_price": 10, "stock": 1, "coupon_template_id": 999_999 }),
        json!({ "name": "x", "points_price": 10, "stock": 1, "coupon_template_id": 0 }),
        json!({ "name": "x", "points_price": 10, "stock": 1, "coupon_template_id": "1" }),
        json!({ "name": "x", "points_price": 10, "stock": 1, "coupon_template_id": t,
                "kind": "goods" }),
        json!({ "name": "x", "points_price": 10, "stock": 1, "coupon_template_id": t,
                "cash_cents": 100 }),
    ] {
        assert_error(
            admin.post("/api/v1/admin/mall/items", &body).await,
            StatusCode::BAD_REQUEST,
            "invalid_input",
        )
        .await;
    }
    assert_eq!(
        q(&app, "SELECT COUNT(*) FROM mall_items").await,
        items_before
    );

    let plain = new_item(&admin, "普通券", 10, 5, json!({ "kind": "voucher" })).await;
    let patch = |body: Value| {
        let admin = admin.clone();
        async move {
            admin
                .http
                .patch(format!("{}/api/v1/admin/mall/items/{plain}", admin.base))
                .json(&body)
                .send()
                .await
                .expect("PATCH")
        }
    };
    assert_error(
        patch(json!({ "coupon_template_id": 999_999 })).await,
        StatusCode::BAD_REQUEST,
        "invalid_input",
    )
    .await;
    let v = json_ok(
        patch(json!({ "coupon_template_id": t })).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["coupon_template_id"], t);
    // A coupon item can't become goods, nor charge cash.
    for body in [json!({ "kind": "goods" }), json!({ "cash_cents": 100 })] {
        assert_error(patch(body).await, StatusCode::BAD_REQUEST, "invalid_input").await;
    }
    // Other fields leave the template alone; `null` makes it a plain item again.
    let v = json_ok(patch(json!({ "name": "普通券2" })).await, StatusCode::OK).await;
    assert_eq!(v["coupon_template_id"], t);
    let v = json_ok(
        patch(json!({ "coupon_template_id": null })).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["coupon_template_id"], Value::Null);
    let m = app.sign_up(&phone(63), "宋江").await;
    grant(&app, &m, 100).await;
    let r = redeemed(&m.client, plain, 1).await;
    assert_eq!(r.status, "pending", "a plain voucher is collected in store");
    assert_eq!(order_coupons(&app, &r.order_code, "issued").await, 0);
}

async fn voucher_concurrent_redemptions_stop_at_template_total(app: TestApp) {
    let admin = app.admin_login().await;
    let t = amount_template(&admin, "限量券", 500, json!({ "total_limit": 5 })).await;
    let item = voucher_item(&admin, t, json!({ "stock": 50 })).await;
    let mut members: Vec<Member> = Vec::new();
    for i in 0..20 {
        members.push(app.sign_up(&phone(100 + i), &format!("会员{i}")).await);
    }
    let grants: Vec<(String, i64, Option<i64>)> = members
        .iter()
        .map(|m| (m.me.member_no.clone(), 200, None))
        .collect();
    let refs: Vec<(&str, i64, Option<i64>)> = grants
        .iter()
        .map(|(n, p, e)| (n.as_str(), *p, *e))
        .collect();
    crate::mall::grant_all(&app, &refs).await;

    let barrier = Arc::new(Barrier::new(members.len()));
    let tasks = members.iter().map(|m| {
        let client = m.client.clone();
        let barrier = barrier.clone();
        tokio::spawn(async move {
            barrier.wait().await;
            let resp = redeem(&client, item, 1, &idem()).await;
            let status = resp.status();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            (status, body)
        })
    });
    let results: Vec<(StatusCode, Value)> = join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.expect("task"))
        .collect();
    let created = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    let exhausted = results
        .iter()
        .filter(|(s, b)| {
            *s == StatusCode::UNPROCESSABLE_ENTITY && b["error"]["code"] == "coupons_exhausted"
        })
        .count();
    assert_eq!((created, exhausted), (5, 15), "{results:?}");
    assert_eq!(
        q(
            &app,
            &format!("SELECT COUNT(*) FROM mall_orders WHERE item_id = {item}")
        )
        .await,
        5
    );
    assert_eq!(
        q(
            &app,
            &format!("SELECT COUNT(*) FROM coupons WHERE template_id = {t}")
        )
        .await,
        5
    );
    assert_eq!(stock_of(&app, item).await, 45);
    assert_eq!(template_of(&admin, t).await.issued, 5);
    // Only the five who got a coupon paid for one.
    assert_eq!(
        q(&app, "SELECT CAST(SUM(points) AS BIGINT) FROM members").await,
        20 * 200 - 5 * 80
    );
}

async fn voucher_refund_by_manager_voids_unused_coupons(app: TestApp) {
    let admin = app.admin_login().await;
    let t = amount_template(
        &admin,
        "每人两张",
        500,
        json!({ "total_limit": 2, "per_member_limit": 2 }),
    )
    .await;
    let item = voucher_item(&admin, t, json!({ "per_member_limit": 2 })).await;
    let m = app.sign_up(&phone(64), "吴用").await;
    grant(&app, &m, 500).await;
    let r = redeemed(&m.client, item, 2).await;
    assert_eq!(m.me().await.points, 340);

    // A cashier can't take back what is already in the wallet.
    let cashier = app.staff_login().await;
    let before = footprint(&app).await;
    assert_error(
        cancel(&cashier, &r.order_code, "顾客不要了", &idem()).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_eq!(footprint(&app).await, before);

    let manager = manager_login(&app).await;
    let key = idem();
    let resp = cancel(&manager, &r.order_code, "顾客不要了", &key).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body = resp.text().await.expect("body");
    let c: CancelOrderResult = serde_json::from_str(&body).expect("CancelOrderResult");
    assert_eq!(c.order.status, "refunded");
    assert_eq!((c.points_returned, c.points), (160, 500));
    assert_eq!(m.me().await.points, 500);
    assert_eq!(order_coupons(&app, &r.order_code, "void").await, 2);
    assert_eq!(order_coupons(&app, &r.order_code, "issued").await, 0);
    assert_eq!(stock_of(&app, item).await, 10);
    // The places go back: the template's total and the member's limits allow it again.
    assert_eq!(template_of(&admin, t).await.issued, 0);
    assert_eq!(
        q(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'mall.refund' \
             AND detail LIKE '%coupons_voided=2%'"
        )
        .await,
        1
    );
    // Voided coupons show under "expired" in the wallet, not as usable.
    let usable = json_ok(
        m.client.get("/api/v1/me/coupons?status=usable").await,
        StatusCode::OK,
    )
    .await;
    assert!(
        usable
            .as_array()
            .expect("array")
            .iter()
            .all(|c| c["template_id"] != t),
        "{usable}"
    );
    // Replay, then a closed order.
    let again = cancel(&manager, &r.order_code, "顾客不要了", &key).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.text().await.expect("body"), body);
    assert_error(
        cancel(&manager, &r.order_code, "再退一次", &idem()).await,
        StatusCode::CONFLICT,
        "order_closed",
    )
    .await;
    assert_eq!(m.me().await.points, 500);
    let again = redeemed(&m.client, item, 2).await;
    assert_eq!(order_coupons(&app, &again.order_code, "issued").await, 2);
    assert_eq!(template_of(&admin, t).await.issued, 2);
}

async fn voucher_refund_refused_once_a_coupon_was_used(app: TestApp) {
    let admin = app.admin_login().await;
    // No minimum spend, so any purchase can use it.
    let t = amount_template(&admin, "立减5元", 500, json!({ "min_spend_cents": 0 })).await;
    let item = voucher_item(&admin, t, json!({})).await;
    let m = app.sign_up(&phone(65), "公孙胜").await;
    grant(&app, &m, 500).await;
    let r = redeemed(&m.client, item, 2).await;
    let coupon = q(
        &app,
        &format!(
            "SELECT MIN(id) FROM coupons WHERE source_ref = '{}'",
            r.order_code
        ),
    )
    .await;

    // The member uses one of the two at the till.
    let cashier = app.staff_login().await;
    let code = m.card_code().await;
    json_ok(
        post_idem(
            &cashier,
            "/api/v1/staff/purchases",
            &json!({ "code": code, "amount_cents": 3000, "order_ref": "VOUCHER-1",
                     "coupon_ids": [coupon] }),
            &idem(),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(order_coupons(&app, &r.order_code, "used").await, 1);
    assert_eq!(template_of(&admin, t).await.used, 1);

    let manager = manager_login(&app).await;
    let before = footprint(&app).await;
    let points = m.me().await.points;
    assert_error(
        cancel(&manager, &r.order_code, "顾客不要了", &idem()).await,
        StatusCode::CONFLICT,
        "coupon_used",
    )
    .await;
    assert_eq!(footprint(&app).await, before);
    assert_eq!(m.me().await.points, points);
    assert_eq!(order_coupons(&app, &r.order_code, "issued").await, 1);
    assert_eq!(order_coupons(&app, &r.order_code, "used").await, 1);
    assert_eq!(
        q(
            &app,
            &format!(
                "SELECT COUNT(*) FROM mall_orders WHERE order_code = '{}' AND status = 'collected'",
                r.order_code
            ),
        )
        .await,
        1
    );
}
